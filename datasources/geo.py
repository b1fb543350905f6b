"""Countries, US states and Canadian provinces, and the postal code formats UPS checks."""

from __future__ import annotations

import re

from datasources.validation import Invalid

# ISO 3166-1 alpha-2, every officially assigned code.
COUNTRIES = frozenset(
    re.findall(
        r"[A-Z]{2}",
        """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """,
    )
)
# Names and three-letter codes people type instead, written without spaces or dots.
COUNTRY_NAMES = {
    "USA": "US", "UNITEDSTATES": "US", "UNITEDSTATESOFAMERICA": "US", "AMERICA": "US",
    "CANADA": "CA", "CAN": "CA", "MEXICO": "MX", "MEX": "MX", "PUERTORICO": "PR", "PRI": "PR",
    "UK": "GB", "UNITEDKINGDOM": "GB", "GREATBRITAIN": "GB", "GBR": "GB", "ENGLAND": "GB",
    "GERMANY": "DE", "DEU": "DE", "FRANCE": "FR", "FRA": "FR", "AUSTRALIA": "AU", "AUS": "AU",
    "JAPAN": "JP", "JPN": "JP", "CHINA": "CN", "CHN": "CN", "INDIA": "IN", "IND": "IN",
    "ITALY": "IT", "ITA": "IT", "SPAIN": "ES", "ESP": "ES", "NETHERLANDS": "NL", "NLD": "NL",
    "IRELAND": "IE", "IRL": "IE", "BRAZIL": "BR", "BRA": "BR",
}  # fmt: skip


def _regions(text: str) -> dict[str, str]:
    """Parse "AL Alabama|AK Alaska|..." into {"AL": "Alabama", ...}."""
    return dict(item.strip().split(" ", 1) for item in text.split("|"))


US_STATES = _regions(
    """
    AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut
    |DE Delaware|DC District of Columbia|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois
    |IN Indiana|IA Iowa|KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland
    |MA Massachusetts|MI Michigan|MN Minnesota|MS Mississippi|MO Missouri|MT Montana
    |NE Nebraska|NV Nevada|NH New Hampshire|NJ New Jersey|NM New Mexico|NY New York
    |NC North Carolina|ND North Dakota|OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania
    |RI Rhode Island|SC South Carolina|SD South Dakota|TN Tennessee|TX Texas|UT Utah
    |VT Vermont|VA Virginia|WA Washington|WV West Virginia|WI Wisconsin|WY Wyoming
    |PR Puerto Rico|VI Virgin Islands|GU Guam|AS American Samoa|MP Northern Mariana Islands
    |AA Armed Forces Americas|AE Armed Forces Europe|AP Armed Forces Pacific
    """
)
CA_PROVINCES = _regions(
    """
    AB Alberta|BC British Columbia|MB Manitoba|NB New Brunswick|NL Newfoundland and Labrador
    |NS Nova Scotia|NT Northwest Territories|NU Nunavut|ON Ontario|PE Prince Edward Island
    |QC Quebec|SK Saskatchewan|YT Yukon
    """
)
REGIONS = {"US": US_STATES, "PR": {"PR": "Puerto Rico"}, "CA": CA_PROVINCES}
ZIP_RE = re.compile(r"^(\d{5})(?:[\s-]?(\d{4}))?$")
CA_POSTAL_RE = re.compile(r"^([A-Z]\d[A-Z])\s*-?\s*(\d[A-Z]\d)$")
MAX_STATE = 5
MAX_POSTAL = 9


def _squash(value: str) -> str:
    return re.sub(r"[\s.]", "", value).upper()


def clean_country(value: str) -> str:
    """Return the ISO 3166 alpha-2 code for a code or a common name; blank means US."""
    code = _squash(value)
    if not code:
        return "US"
    code = COUNTRY_NAMES.get(code, code)
    if code not in COUNTRIES:
        raise Invalid("is not an ISO 3166 country code (two letters, such as US or CA)")
    return code


def needs_region(country: str) -> bool:
    """Return True when UPS needs a state or province for ``country``."""
    return country in REGIONS


def clean_state(value: str, *, country: str) -> str:
    """Return the state or province code: checked for US, PR and CA, at most 5 characters else."""
    regions = REGIONS.get(country)
    text = " ".join(value.split())
    if regions is None:
        # Upper-case first: it can lengthen a text ("ß" becomes "SS").
        text = text.upper()
        if len(text) > MAX_STATE:
            raise Invalid(f"is longer than the {MAX_STATE} characters of a province code")
        return text
    code = text.upper().replace(".", "")
    if code in regions:
        return code
    by_name = {name.upper(): abbr for abbr, name in regions.items()}
    if code in by_name:
        return by_name[code]
    what = "Canadian province" if country == "CA" else "US state"
    raise Invalid(f"is not a {what} (two letters, such as {next(iter(regions))})")


def clean_postal_code(value: str, *, country: str) -> str:
    """Return a ZIP as "12345" or "12345-6789", a Canadian code as "A1A 1A1", others trimmed."""
    text = value.strip().upper()
    if country in {"US", "PR"}:
        match = ZIP_RE.match(text)
        if not match:
            raise Invalid("is not a US ZIP code (5 digits or ZIP+4)")
        return match[1] if match[2] is None else f"{match[1]}-{match[2]}"
    if country == "CA":
        match = CA_POSTAL_RE.match(text)
        if not match:
            raise Invalid("is not a Canadian postal code (such as K1A 0B1)")
        return f"{match[1]} {match[2]}"
    if len(text) > MAX_POSTAL:
        raise Invalid(f"is longer than the {MAX_POSTAL} characters of a postal code")
    return text
