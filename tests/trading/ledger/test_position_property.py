"""The position the ledger folds from stored fills is the domain's fold of the same fills, for any sequence."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeloom.trading.events import Fill
from tradeloom.trading.ledger import SqlLedger
from tradeloom.trading.orders import Liquidity, Side
from tradeloom.trading.positions import fold


def _decimal(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.builds(lambda units, places: Decimal(units).scaleb(-places),
                     st.integers(low, high), st.integers(0, 9))


fills_strategy = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), _decimal(1, 10**7), _decimal(1, 10**9), _decimal(0, 10**5),
              st.sampled_from(["BTCUSD", "ETHUSD"])),
    min_size=1,
    max_size=10,
)
_venues = itertools.count()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draws=fills_strategy)
def test_stored_fills_fold_to_the_domain_position(
    ledger_url: str, draws: list[tuple[Side, Decimal, Decimal, Decimal, str]]
) -> None:
    venue = f"v{next(_venues)}"  # one file for the test, a fresh venue per example
    fills = [
        Fill(f"f{n}", f"c{n}", f"x{n}", symbol, side, price, quantity, fee, "USD", Liquidity.MAKER, n)
        for n, (side, quantity, price, fee, symbol) in enumerate(draws)
    ]
    with SqlLedger(ledger_url, venue=venue) as ledger:
        for fill in fills:
            ledger.record_fill(fill)
        ledger.record_fill(fills[0])  # seen again after a reconnect: changes nothing
        positions = ledger.positions()
    symbols = {fill.symbol for fill in fills}
    assert set(positions) == symbols
    for symbol in symbols:
        expected = fold(symbol, "USD", fills)
        assert positions[symbol] == expected
        assert positions[symbol].cost.as_tuple() == expected.cost.as_tuple()
