"""Risk and profit protection: pure rules the engine applies in backtest, paper and live alike.

- ``protection_rules`` / ``protection``: R-based breakeven, trailing ladder and scale-outs as a
  state machine per position (``ProtectionState``);
- ``protection_policy``: ``ProtectionPolicy``, the engine's ``PositionPolicy`` built on it (sizing,
  dynamic stop, chase validation, conditional exit, breaker reactions);
- ``dynamic_stop``, ``conditional_exit``, ``sizing``: the entry stop, the exit on exhaustion, the size;
- ``heat``, ``var``: portfolio heat with correlation clusters, value at risk;
- ``breakers``, ``kill_switch``, ``stored_state``: trading state (active, reducing, halted), the
  kill switch, and what of them survives a restart in the ledger;
- ``gate``: ``RiskLimitsGate``, the engine's ``RiskGate``;
- ``execution``: order-book analysis, order method selection, slippage tolerance, surge and chase;
- ``config`` / ``assembly``: every rule's configuration in one ``RiskConfig`` and ``risk_side()``,
  which builds the policy and the gate on shared breakers (settings live in
  ``tradeloom.settings.risk``; nothing here reads them).
"""
