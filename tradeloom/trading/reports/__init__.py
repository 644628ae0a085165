"""Backtest reports: an equity and drawdown PNG, an interactive offline HTML page, and a markdown summary."""
