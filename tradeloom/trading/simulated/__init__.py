"""A simulated venue: a matching engine on bars, quotes or order-book snapshots."""

from tradeloom.trading.simulated.config import VenueConfig
from tradeloom.trading.simulated.fees import FeeSchedule
from tradeloom.trading.simulated.latency import FixedLatency, LatencyModel, UniformLatency
from tradeloom.trading.simulated.market import BookSnapshot, IntrabarOrder, Quotes
from tradeloom.trading.simulated.slippage import BookWalk, FixedBps, HalfSpread, SlippageModel
from tradeloom.trading.simulated.venue import SimulatedVenue

__all__ = [
    "BookSnapshot", "BookWalk", "FeeSchedule", "FixedBps", "FixedLatency", "HalfSpread", "IntrabarOrder",
    "LatencyModel", "Quotes", "SimulatedVenue", "SlippageModel", "UniformLatency", "VenueConfig",
]
