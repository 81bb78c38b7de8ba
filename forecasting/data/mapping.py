"""What a sales table's columns mean: the mapping found, and the names it is found by.

``forecasting.data.columns`` detects a long table's mapping and ``forecasting.data.wide`` a
wide one's; both read the same hints, kept here so neither imports the other's
module for them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

#: English names first, then the usual words of European exports (German, French, Spanish,
#: Italian, Dutch), which planners' files keep in their own language
DATE_HINTS = (
    "ds", "date", "day", "week", "month", "period", "time", "timestamp",
    "fecha", "datum", "tag", "monat", "woche", "jour", "mois", "semaine", "mes", "data",
)  # fmt: skip
TARGET_HINTS = (
    "y",
    "sales",
    "weekly_sales",
    "daily_sales",
    "monthly_sales",
    "transactions",
    "units",
    "quantity",
    "qty",
    "demand",
    "revenue",
    "amount",
    "volume",
    "orders",
    "target",
    "umsatz", "absatz", "menge", "verkauf", "ventas", "venta", "ventes", "vendite",
    "cantidad", "quantite", "omzet", "aantal", "stueck", "stk", "anzahl", "unidades", "stuks",
    "pezzi", "pieces", "pcs", "turnover",
)  # fmt: skip
#: names of a count of what sold: preferred as the sales over money (a planner forecasts
#: demand in units; an export often carries the revenue beside them)
QUANTITY_HINTS = (
    "units", "unit_sales", "quantity", "qty", "volume", "orders", "menge", "absatz", "stueck",
    "stk", "anzahl", "cantidad", "unidades", "quantite", "aantal", "stuks", "pezzi",
    "quantita", "pieces", "pcs",
)  # fmt: skip
#: names of money: the sales only when nothing counts the units
MONEY_HINTS = (
    "revenue", "amount", "umsatz", "omzet", "turnover", "spend", "value", "wert", "betrag",
    "importe", "montant", "fatturato", "dollars", "euro",
)  # fmt: skip
ID_HINTS = (
    "unique_id",
    "id",
    "store",
    "item",
    "product",
    "sku",
    "category",
    "dept",
    "department",
    "family",
    "region",
    "shop",
    "brand",
    "channel",
    "location",
    "country",
    "city",
    "series",
    "part",
    "article",
    "material",
    "code",
    "filiale", "markt", "artikel", "produkt", "kategorie", "tienda", "magasin", "produit",
    "articulo", "producto", "negozio", "winkel", "customer", "kunde", "client", "cliente",
)  # fmt: skip


def plain_letters(text: str) -> str:
    """Umlauts as German writes them without (Stück: stueck), other accents dropped."""
    for letter, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(letter, plain)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def target_rank(name: str) -> tuple[int, int]:
    """How likely a column is the sales: a count of units first, money last, then how
    well the name matches."""
    kind = (
        0 if hint_rank(name, QUANTITY_HINTS) < 2 else 2 if hint_rank(name, MONEY_HINTS) < 2 else 1
    )
    return kind, hint_rank(name, TARGET_HINTS)


@dataclass
class ColumnMapping:
    """Which input columns became the date, the target, the series key and the drivers.

    ``attributes`` are text columns fixed within each series (a product's category,
    a store's region): kept for grouping and as series-level features. ``wide``
    lists the columns of a wide table, one series each (empty for a long table).
    """

    date: str
    target: str
    ids: list[str]
    drivers: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    wide: list[str] = field(default_factory=list)
    #: every column of the file, in its order (an append of the same export has them all)
    columns: list[str] = field(default_factory=list)
    #: the file's columns none of the above, and why (said in the report, never dropped
    #: without a word)
    ignored: dict[str, str] = field(default_factory=dict)
    #: other numeric columns that could be the sales when none is named like sales: the
    #: reading guessed, and the page asks
    target_candidates: list[str] = field(default_factory=list)
    #: the file's columns read under another name: its ``unique_id`` is a series id here,
    #: as the long frame's ``unique_id`` is the key (``forecasting.data.loading.RESERVED``)
    renamed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "date": self.date,
            "target": self.target,
            "ids": self.ids,
            "drivers": self.drivers,
            "attributes": self.attributes,
            "wide": self.wide,
            "columns": self.columns,
            "ignored": self.ignored,
            "target_candidates": self.target_candidates,
            **({"renamed": self.renamed} if self.renamed else {}),
        }


def hint_rank(name: str, hints: tuple[str, ...]) -> int:
    """0 for an exact hint, 1 for a hint inside the name, 2 for none."""
    key = re.sub(r"[^a-z0-9]+", "_", plain_letters(name.lower())).strip("_")
    if key in hints:
        return 0
    parts = set(key.split("_"))
    return 1 if parts & set(hints) or any(h in key for h in hints if len(h) > 3) else 2
