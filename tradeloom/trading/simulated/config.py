"""How a simulated venue behaves: fees, slippage, latency, intra-bar order, liquidity, balances."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradeloom.trading.simulated.fees import FeeSchedule
from tradeloom.trading.simulated.latency import FixedLatency, LatencyModel
from tradeloom.trading.simulated.market import IntrabarOrder
from tradeloom.trading.simulated.slippage import FixedBps, SlippageModel


@dataclass(frozen=True)
class VenueConfig:
    """Settings of a SimulatedVenue; the defaults are the conservative ones."""

    fees: FeeSchedule = field(default_factory=FeeSchedule)
    slippage: SlippageModel = field(default_factory=FixedBps)
    latency: LatencyModel = field(default_factory=FixedLatency)
    intrabar: IntrabarOrder = IntrabarOrder.CONSERVATIVE
    # Share of a bar's volume our orders may fill in that bar (None: unlimited liquidity).
    volume_participation: Decimal | None = None
    native_oco: bool = True  # the venue cancels OCO siblings itself when one fills in full
    bar_interval_ns: int | None = None  # None: the smallest gap between bar timestamps

    def __post_init__(self) -> None:
        object.__setattr__(self, "intrabar", IntrabarOrder(self.intrabar))
        if self.volume_participation is not None:
            share = Decimal(str(self.volume_participation))
            if not 0 < share <= 1:
                raise ValueError(f"volume_participation must be in (0, 1], got {share}")
            object.__setattr__(self, "volume_participation", share)
        if self.bar_interval_ns is not None and self.bar_interval_ns <= 0:
            raise ValueError(f"bar_interval_ns must be positive, got {self.bar_interval_ns}")
