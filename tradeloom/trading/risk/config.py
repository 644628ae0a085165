"""Every rule's configuration in one bundle, built at the edge from typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradeloom.trading.risk.breakers import BreakerConfig
from tradeloom.trading.risk.conditional_exit import ConditionalExitConfig
from tradeloom.trading.risk.dynamic_stop import DynamicStopConfig
from tradeloom.trading.risk.execution.method import ExecutionConfig
from tradeloom.trading.risk.execution.surge import SurgeConfig
from tradeloom.trading.risk.gate import GateConfig
from tradeloom.trading.risk.protection_rules import ProtectionConfig
from tradeloom.trading.risk.sizing import SizingConfig


@dataclass(frozen=True)
class RiskConfig:
    """The configuration of the whole risk side (defaults are the documented ones)."""

    protection: ProtectionConfig = field(default_factory=ProtectionConfig)
    dynamic_stop: DynamicStopConfig = field(default_factory=DynamicStopConfig)
    conditional_exit: ConditionalExitConfig = field(default_factory=ConditionalExitConfig)
    sizing: SizingConfig = field(default_factory=SizingConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    breakers: BreakerConfig = field(default_factory=BreakerConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    surge: SurgeConfig = field(default_factory=SurgeConfig)
