"""Risk and profit-protection settings (unprefixed environment names), and their pure configuration.

Read once at the edge; ``risk_config`` turns them into the dataclasses the risk modules
take, so nothing in ``tradeloom.trading.risk`` ever sees a setting or the environment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradeloom.trading.risk.breakers import BreakerConfig, TradingState
from tradeloom.trading.risk.conditional_exit import ConditionalExitConfig
from tradeloom.trading.risk.config import RiskConfig
from tradeloom.trading.risk.dynamic_stop import DynamicStopConfig
from tradeloom.trading.risk.execution.method import ExecutionConfig
from tradeloom.trading.risk.execution.slippage import MarketOnExcess, SlippageTolerance
from tradeloom.trading.risk.execution.surge import SurgeConfig
from tradeloom.trading.risk.gate import GateConfig
from tradeloom.trading.risk.heat import HeatConfig
from tradeloom.trading.risk.protection_rules import ProtectionConfig, parse_scale_levels, parse_trailing_ladder
from tradeloom.trading.risk.sizing import SizingConfig, parse_risk_bands


class RiskSettings(BaseSettings):
    """Every knob of the risk side; the environment names are the field names in upper case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # profit protection
    enable_scaled_sell: bool = Field(True, description="Take profits in steps at SCALED_SELL_LEVELS.")
    scaled_sell_levels: str = Field("2:50,3:25,4:25", description="TRIGGER:SHARE% levels; triggers in R (2) or percent of price (3%).")
    breakeven_trigger_r: Decimal = Field(Decimal(1), gt=0, description="Move the stop to entry plus round-trip fees at this many R.")
    trailing_stop_ladder: str = Field("1.5:1,3:0.5", description="FROM_R:TRAIL_R rungs: from 1.5R trail 1R below the best price, ...")
    # dynamic stop loss
    enable_dynamic_stop_loss: bool = Field(True, description="Initial stop from ATR (or past trades' adverse excursion).")
    dynamic_stop_atr_period: int = Field(14, ge=1, description="Bars in the ATR.")
    dynamic_stop_atr_multiplier: Decimal = Field(Decimal(2), gt=0, description="Stop distance in ATRs.")
    dynamic_stop_high_volatility_ratio: Decimal = Field(Decimal("1.5"), gt=0, description="ATR over its 100-bar mean that counts as high volatility.")
    dynamic_stop_high_volatility_widening: Decimal = Field(Decimal("1.25"), ge=1, description="Stop widening factor in high volatility.")
    dynamic_stop_max_multiple: Decimal = Field(Decimal("1.5"), ge=1, description="Cap: at most this times the strategy's base stop distance.")
    dynamic_stop_min_similar_trades: int = Field(20, ge=1, description="Similar past trades needed to use their adverse excursion.")
    # conditional exit
    enable_conditional_sell: bool = Field(True, description="Exit when CONDITIONAL_SELL_MIN_CONDITIONS exhaustion signs hold.")
    conditional_sell_min_conditions: int = Field(3, ge=1, le=5, description="How many of the five conditions must hold.")
    conditional_sell_profit_pct: Decimal = Field(Decimal(2), ge=0, description="The 'profit' condition: open profit above this percent.")
    # execution
    buy_use_post_only: bool = Field(False, description="Send non-urgent buys as post-only limits.")
    sell_use_post_only: bool = Field(False, description="Send non-urgent sells as post-only limits.")
    slippage_tolerance: Decimal = Field(Decimal("0.5"), gt=0, lt=100, description="Percent: bounds limit prices, flags worse fills.")
    slippage_excess_action: Literal["convert", "refuse"] = Field("convert", description="A market order expected beyond the tolerance: convert to a limit or refuse.")
    liquidity_band_pct: Decimal = Field(Decimal("0.5"), gt=0, description="Depth counted within this percent of mid.")
    liquidity_target_notional: Decimal = Field(Decimal(50_000), gt=0, description="Depth (quote) in the band that scores 1.")
    min_liquidity_score: Decimal = Field(Decimal("0.3"), ge=0, le=1, description="Below this score market orders are avoided.")
    chase_daily_limit: int = Field(3, ge=0, description="Chase buys into surges allowed per UTC day.")
    chase_max_pct: Decimal = Field(Decimal(5), gt=0, description="A chase buy at most this percent above the surge start (a sell: below).")
    chase_cooldown_seconds: int = Field(900, ge=0, description="Seconds between chase buys of one symbol.")
    surge_window_bars: int = Field(5, ge=1, description="Bars over which a surge is measured (price change, mean volume).")
    surge_history_bars: int = Field(50, ge=2, description="Bars before the surge window whose mean volume is normal; more than SURGE_WINDOW_BARS.")
    surge_min_change_pct: float = Field(3.0, gt=0, description="Price rise over SURGE_WINDOW_BARS bars that makes a surge.")
    surge_min_volume_multiple: float = Field(3.0, gt=0, description="Recent volume over its SURGE_HISTORY_BARS mean that makes a surge.")
    # sizing
    risk_bands: str = Field("0:2,50000:1.5,200000:1,1000000:0.5", description="EQUITY:RISK% bands of risk per trade.")
    kelly_min_trades: int = Field(30, ge=0, description="Closed trades needed before the Kelly cap applies (0 off); a negative edge then stops entries.")
    kelly_multiplier: Decimal = Field(Decimal("0.5"), gt=0, le=1, description="Fraction of the Kelly bet used as a cap.")
    volatility_target_pct: Decimal = Field(Decimal(0), ge=0, description="Per-bar volatility of a position at most this percent of equity (0 off).")
    max_position_pct: Decimal = Field(Decimal(20), gt=0, le=100, description="Position notional at most this percent of equity.")
    # portfolio heat
    max_portfolio_heat_pct: Decimal = Field(Decimal(6), gt=0, description="Sum of loss-to-stop over open positions, percent of equity.")
    cluster_heat_pct: Decimal = Field(Decimal(3), gt=0, description="Heat cap of one correlation cluster, percent of equity.")
    correlation_threshold: float = Field(0.7, gt=0, lt=1, description="Return correlation above which symbols form a cluster.")
    correlation_window: int = Field(60, ge=3, description="Returns in the correlation window.")
    correlation_refresh_seconds: int = Field(86_400, gt=0, description="Clusters are recomputed at most once per this many seconds (86400: once per UTC day) or when a new symbol appears.")
    # circuit breakers
    daily_loss_limit_pct: Decimal = Field(Decimal(3), ge=0, description="Daily loss from the day's first equity that trips the breaker (0 off).")
    daily_loss_state: Literal["reducing", "halted"] = Field("halted", description="State after the daily loss limit.")
    max_drawdown_pct: Decimal = Field(Decimal(15), ge=0, description="Drawdown from the equity peak that trips the breaker (0 off).")
    max_drawdown_state: Literal["reducing", "halted"] = Field("halted", description="State after the drawdown limit.")
    stop_out_limit: int = Field(3, ge=0, description="Stop-outs at a loss within the window that start a cooldown (0 off).")
    stop_out_window_seconds: int = Field(3600, gt=0, description="Window for counting stop-outs.")
    stop_out_cooldown_seconds: int = Field(3600, ge=0, description="Cooldown (reducing only) after too many stop-outs.")
    flatten_on_halt: bool = Field(False, description="Close open positions at market when trading is halted.")
    # risk gate
    max_order_notional: Decimal = Field(Decimal(0), ge=0, description="Largest notional of an order adding exposure (0 off).")
    max_orders_per_window: int = Field(30, ge=0, description="Orders adding exposure per window (0 off).")
    order_rate_window_seconds: int = Field(60, gt=0, description="The order-rate window.")

    @field_validator("scaled_sell_levels")
    @classmethod
    def _levels(cls, value: str) -> str:
        ProtectionConfig(scale_levels=parse_scale_levels(value))
        return value

    @field_validator("trailing_stop_ladder")
    @classmethod
    def _ladder(cls, value: str) -> str:
        ProtectionConfig(trailing_ladder=parse_trailing_ladder(value))
        return value

    @model_validator(mode="after")
    def _surge(self) -> "RiskSettings":
        if self.surge_history_bars <= self.surge_window_bars:
            raise ValueError(f"SURGE_HISTORY_BARS ({self.surge_history_bars}) must be more than "
                             f"SURGE_WINDOW_BARS ({self.surge_window_bars})")
        return self

    @field_validator("risk_bands")
    @classmethod
    def _bands(cls, value: str) -> str:
        SizingConfig(risk_bands=parse_risk_bands(value))
        return value


def risk_config(settings: RiskSettings) -> RiskConfig:
    """The pure configuration the risk modules take, from the settings."""
    s = settings
    tolerance = SlippageTolerance(s.slippage_tolerance, MarketOnExcess(s.slippage_excess_action))
    return RiskConfig(
        protection=ProtectionConfig(
            breakeven_trigger_r=s.breakeven_trigger_r,
            trailing_ladder=parse_trailing_ladder(s.trailing_stop_ladder),
            scaled_exits_enabled=s.enable_scaled_sell,
            scale_levels=parse_scale_levels(s.scaled_sell_levels),
        ),
        dynamic_stop=DynamicStopConfig(
            enabled=s.enable_dynamic_stop_loss,
            atr_period=s.dynamic_stop_atr_period,
            atr_multiplier=s.dynamic_stop_atr_multiplier,
            long_run_period=max(100, s.dynamic_stop_atr_period),
            high_volatility_ratio=s.dynamic_stop_high_volatility_ratio,
            high_volatility_widening=s.dynamic_stop_high_volatility_widening,
            cap_multiple=s.dynamic_stop_max_multiple,
            min_similar_trades=s.dynamic_stop_min_similar_trades,
        ),
        conditional_exit=ConditionalExitConfig(
            enabled=s.enable_conditional_sell,
            min_conditions=s.conditional_sell_min_conditions,
            profit_threshold_pct=s.conditional_sell_profit_pct,
        ),
        sizing=SizingConfig(
            risk_bands=parse_risk_bands(s.risk_bands),
            kelly_min_trades=s.kelly_min_trades,
            kelly_multiplier=s.kelly_multiplier,
            volatility_target_pct=s.volatility_target_pct,
            max_position_pct=s.max_position_pct,
        ),
        gate=GateConfig(
            max_order_notional=s.max_order_notional,
            max_orders_per_window=s.max_orders_per_window,
            order_rate_window_s=s.order_rate_window_seconds,
            slippage=tolerance,
            heat=HeatConfig(
                max_heat_pct=s.max_portfolio_heat_pct,
                cluster_heat_pct=s.cluster_heat_pct,
                correlation_threshold=s.correlation_threshold,
                correlation_window=s.correlation_window,
                correlation_refresh_s=s.correlation_refresh_seconds,
            ),
        ),
        breakers=BreakerConfig(
            daily_loss_limit_pct=s.daily_loss_limit_pct,
            daily_loss_state=TradingState(s.daily_loss_state),
            max_drawdown_pct=s.max_drawdown_pct,
            max_drawdown_state=TradingState(s.max_drawdown_state),
            stop_out_limit=s.stop_out_limit,
            stop_out_window_s=s.stop_out_window_seconds,
            cooldown_s=s.stop_out_cooldown_seconds,
            flatten_on_halt=s.flatten_on_halt,
        ),
        execution=ExecutionConfig(
            buy_use_post_only=s.buy_use_post_only,
            sell_use_post_only=s.sell_use_post_only,
            band_pct=s.liquidity_band_pct,
            target_depth_notional=s.liquidity_target_notional,
            min_liquidity_score=s.min_liquidity_score,
            slippage=tolerance,
        ),
        surge=SurgeConfig(
            window=s.surge_window_bars,
            history=s.surge_history_bars,
            min_change_pct=s.surge_min_change_pct,
            min_volume_multiple=s.surge_min_volume_multiple,
            max_chase_pct=s.chase_max_pct,
            cooldown_s=s.chase_cooldown_seconds,
            daily_limit=s.chase_daily_limit,
        ),
    )
