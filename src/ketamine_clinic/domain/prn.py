"""Standing PRN ("as needed") orders per protocol, and the check a dose must pass.

The clinical reference lists nausea and vomiting among ketamine's common effects [S23],
asks for the blood pressure to be managed when it stays high [S30][S7], and names
agitation or dysphoria among the effects to watch [S23]; it gives no drug doses. The doses,
maxima and intervals below are therefore clinic settings (``domain.settings``) whose
defaults are marked UNCONFIRMED: the medical director confirms them, as for every other
unconfirmed threshold. A nasal-spray session has no IV line, so its standing order is an
oral antiemetic only; a blood pressure that stays high there is the prescriber's call [S30].

Errors::

    PrnError (ValueError)   unknown PRN code, a dose above the order, a dose above the
                            session maximum, or too soon after the last dose; ``field``
                            names the input
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketamine_clinic.domain.settings import ClinicRules

__all__ = ["PRN_ORDERS", "PrnError", "PrnOrder", "check_prn_dose", "prn_orders_for"]


class PrnError(ValueError):
    code = "prn"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PrnOrder:
    """One standing PRN order: the drug, its class, what it is for, the route it is given
    by, the roles that may give it, and the names of its three settings."""

    code: str
    drug: str
    drug_class: str
    indication: str
    route: str
    session_routes: tuple[str, ...]
    roles: tuple[str, ...]
    source: str

    def dose_mg(self, rules: ClinicRules) -> float:
        return float(getattr(rules, f"prn_{self.drug_key}_dose_mg"))

    def max_mg(self, rules: ClinicRules) -> float:
        return float(getattr(rules, f"prn_{self.drug_key}_max_mg"))

    def every_min(self, rules: ClinicRules) -> float:
        return float(getattr(rules, f"prn_{self.drug_key}_every_min"))

    @property
    def drug_key(self) -> str:
        return self.code.split("_", 1)[0]

    def summary(self, rules: ClinicRules) -> str:
        return (
            f"{self.drug} {self.dose_mg(rules):g} mg {self.route} for {self.indication.lower()}; "
            f"at most {self.max_mg(rules):g} mg per session, doses {self.every_min(rules):g} min apart"
        )


_NURSING = ("crna", "rn", "prescriber")

PRN_ORDERS: dict[str, PrnOrder] = {
    order.code: order
    for order in (
        PrnOrder(
            "ondansetron_iv",
            "Ondansetron",
            "antiemetic",
            "Nausea or vomiting",
            "IV",
            ("iv",),
            _NURSING,
            "[S23]",
        ),
        PrnOrder(
            "ondansetron_odt",
            "Ondansetron",
            "antiemetic",
            "Nausea or vomiting",
            "oral (dissolving tablet)",
            ("nasal",),
            _NURSING,
            "[S23]",
        ),
        PrnOrder(
            "labetalol_iv",
            "Labetalol",
            "antihypertensive",
            "Blood pressure above the pause level that stays high on a recheck",
            "IV",
            ("iv",),
            _NURSING,
            "[S30][S7]",
        ),
        PrnOrder(
            "midazolam_iv",
            "Midazolam",
            "benzodiazepine",
            "Marked anxiety, agitation or dysphoria",
            "IV",
            ("iv",),
            # a sedative given during a sedating infusion: the anaesthesia clinician or the prescriber
            ("crna", "prescriber"),
            "[S23][S20]",
        ),
    )
}


def prn_orders_for(route: str) -> tuple[PrnOrder, ...]:
    """The standing PRN orders for a session of ``route`` ("iv" or "nasal") [S23][S30]."""
    return tuple(o for o in PRN_ORDERS.values() if route in o.session_routes)


def check_prn_dose(
    order: PrnOrder,
    *,
    dose_mg: float,
    role: str,
    given_before: list[tuple[datetime, float]],
    at: datetime,
    rules: ClinicRules,
    show_time: Callable[[datetime], str] = lambda t: t.strftime("%H:%M"),
) -> None:
    """Refuse a dose of ``order`` at ``at``: a role outside the order's, a dose outside
    0 to the ordered dose, a session total above the order's maximum, or a dose sooner than
    the order's interval after the last one (``given_before``: earlier doses of the same
    drug this session, (time, mg)) [S23][S30][S20]. Raises ``PrnError``."""
    if role not in order.roles:
        raise PrnError(f"{order.drug} is given by: {', '.join(order.roles)}", "drug")
    ordered = order.dose_mg(rules)
    if not 0 < dose_mg <= ordered:
        raise PrnError(f"dose must be more than 0 and at most {ordered:g} mg (the standing order)", "dose_mg")
    total = sum(mg for _, mg in given_before)
    limit = order.max_mg(rules)
    if total + dose_mg > limit + 1e-9:
        raise PrnError(
            f"{order.drug}: {total:g} mg already given this session; at most {limit:g} mg per session "
            f"(a clinic setting), so at most {max(limit - total, 0):g} mg more",
            "dose_mg",
        )
    if given_before:
        last = max(t for t, _ in given_before)
        gap = timedelta(minutes=order.every_min(rules))
        if at < last + gap:
            raise PrnError(
                f"{order.drug} was last given at {show_time(last)}; the next dose may be given from "
                f"{show_time(last + gap)} ({order.every_min(rules):g} min apart, a clinic setting)",
                "drug",
            )
