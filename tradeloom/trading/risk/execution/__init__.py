"""Smart execution: order-book analysis, order method selection, slippage tolerance, surge and chase guards."""
