"""What a model needs to know about a data set besides its rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from forecasting.data.frequency import Frequency

#: a driver named like this is a price: sales never rise with it
PRICE_NAMES = re.compile(r"price|prc|preis|prix|precio|prezzo|prijs", re.IGNORECASE)
#: a driver named like this is a promotion (a flag, a share of stores, an ad): sales never
#: fall with it
PROMOTION_NAMES = re.compile(
    r"promo|deal|feat|display|tpr|discount|advert|markdown|coupon|circular"
    r"|(?<![a-z])aktion|angebot|rabatt|remise|oferta|descuento|offerta|sconto|aanbieding|korting",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DataSpec:
    """Frequency, known-in-advance drivers, holiday country and series attribute columns.

    ``prices`` and ``promotions`` are the drivers whose effect has a known sign: a price
    never raises a forecast, a promotion never lowers one; besides the declared ones,
    the drivers are given their role by name (``driver_roles``). With ``constrained`` the
    models that use drivers respect those signs (``effect_sign``); the plan's fill rules
    (``forecasting.serving.plans``) use the roles either way.
    """

    freq: Frequency
    exog: tuple[str, ...] = ()
    country: str | None = "US"
    attributes: tuple[str, ...] = field(default=())
    prices: tuple[str, ...] = ()
    promotions: tuple[str, ...] = ()
    constrained: bool = True

    def __post_init__(self) -> None:
        # the roles of the drivers kept: the declared ones and, by name, the rest
        prices, promotions = driver_roles(self.exog, self.prices, self.promotions)
        object.__setattr__(self, "prices", prices)
        object.__setattr__(self, "promotions", promotions)

    @property
    def season_length(self) -> int:
        return self.freq.season_length

    def role(self, driver: str) -> str:
        """``price``, ``promotion`` or ``other``."""
        if driver in self.prices:
            return "price"
        return "promotion" if driver in self.promotions else "other"

    def effect_sign(self, driver: str) -> int:
        """-1: sales never rise with the driver; +1: never fall; 0: free."""
        if not self.constrained:
            return 0
        return {"price": -1, "promotion": 1}.get(self.role(driver), 0)


def driver_roles(
    exog: tuple[str, ...] | list[str],
    prices: tuple[str, ...] | list[str] = (),
    promotions: tuple[str, ...] | list[str] = (),
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The prices and the promotions among ``exog``: the ones declared, and by name the
    rest (``PRICE_NAMES``, ``PROMOTION_NAMES``); a declared role wins over a name."""
    declared = set(prices) | set(promotions)
    named_prices = [d for d in exog if d not in declared and PRICE_NAMES.search(d)]
    named_promos = [
        d for d in exog if d not in declared and d not in named_prices and PROMOTION_NAMES.search(d)
    ]
    return (
        tuple(d for d in exog if d in set(prices) or d in named_prices),
        tuple(d for d in exog if d in set(promotions) or d in named_promos),
    )
