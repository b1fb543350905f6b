"""Every change to jobs and rows goes through a function in this package (STYLE.md item 1)."""
