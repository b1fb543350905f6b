"""One adapter per kind of data source, chosen by ``get_adapter``."""

from datasources.adapters.base import SourceAdapter, SourceRow, WriteBack
from datasources.adapters.registry import get_adapter

__all__ = ["SourceAdapter", "SourceRow", "WriteBack", "get_adapter"]
