"""Risk and profit protection: pure rules the engine applies in backtest, paper and live alike."""
