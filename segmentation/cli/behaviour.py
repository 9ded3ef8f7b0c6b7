"""The behaviour commands of the CLI: RFM from orders, propensity scores."""

from __future__ import annotations

import argparse

from .. import RFMSettings, ScoreSettings, Workspace
from .base import command
from .segment import FEATURES_HELP, features_of


@command("rfm")
def cmd_rfm(ws: Workspace, args: argparse.Namespace) -> dict:
    settings = RFMSettings(as_of=args.as_of, window_days=args.window_days, link_column=args.link_column,
                           amount_column=args.amount_column, order_column=args.order_column,
                           quantity_column=args.quantity_column, price_column=args.price_column,
                           status_column=args.status_column, date_column=args.date_column,
                           category_column=args.category_column, cancel_prefix=args.cancel_prefix,
                           lifetime=args.lifetime)
    orders = ws.dataset(args.orders) if args.orders else None  # None: the newest transactions dataset
    return ws.dataset(args.dataset).behaviour.rfm(orders, settings).to_dict()


@command("score")
def cmd_score(ws: Workspace, args: argparse.Namespace) -> dict:
    handle = ws.dataset(args.dataset)
    features = features_of(handle.segments, args) if args.features else None
    return handle.behaviour.score(ScoreSettings(target=args.target, name=args.name, features=features)).to_dict()


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    features_help = FEATURES_HELP
    p = sub.add_parser("rfm", parents=[common], help="recency, frequency, monetary per customer from orders")
    p.add_argument("--dataset", help="customers dataset (default: the most recent)")
    p.add_argument("--orders", help="orders dataset, imported with --kind transactions (default: the most recent)")
    p.add_argument("--as-of", help="reference date YYYY-MM-DD (default: today)")
    p.add_argument("--window-days", type=int, default=365,
                   help="frequency and monetary count the orders of this many days up to --as-of")
    p.add_argument("--link-column", help="orders column holding the customer's record id (default: detected)")
    none = ' ("" for none; default: guessed from headers and values)'
    p.add_argument("--amount-column", help="column of the amount paid per line" + none)
    p.add_argument("--order-column", help="column of the order id or invoice number; without one, each line is "
                                          "an order" + none)
    p.add_argument("--quantity-column", help="column of the quantity (amount = quantity × price without an "
                                             "amount column; negative: a return)" + none)
    p.add_argument("--price-column", help="column of the unit price" + none)
    p.add_argument("--status-column", help="column of the order status (cancelled / returned words)" + none)
    p.add_argument("--date-column", help="column of the order date (default: guessed)")
    p.add_argument("--category-column", help="column of the product category (favourite category)" + none)
    p.add_argument("--cancel-prefix", default="C",
                   help="an order id made of this prefix and digits is a cancellation invoice (default: C; "
                        '"" for none)')
    p.add_argument("--lifetime", action="store_true",
                   help="also compute the lifetimes summary: repeat frequency, recency and T in days, monetary value")

    p = sub.add_parser("score", parents=[common], help="train a propensity model and score every customer")
    p.add_argument("--dataset")
    p.add_argument("--target", required=True, help="yes/no column to predict (e.g. churned)")
    p.add_argument("--name", help="model name (default: the target); scores go to column score_<name>")
    p.add_argument("--features", help=features_help)
