"""Entry point: ``redflag {score,train,eval,explain}``.

Exit codes: 0 success; 1 the command ran but found bad rows (``--strict``) or failed checks;
2 usage or input error (bad arguments, unreadable file, bad model file).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..io import InputError
from ..model import ModelFormatError
from ..rules import RuleError
from . import eval as eval_cmd
from . import explain as explain_cmd
from . import score as score_cmd
from . import train as train_cmd

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redflag",
        description="Flag client messages that steer a freelancer into off-platform, direct-contract, "
        "personal-data, escrow-bypass or upfront-fee traps.",
    )
    parser.add_argument("--version", action="version", version=f"redflag {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (may include message text)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (score_cmd, train_cmd, eval_cmd, explain_cmd):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="redflag: %(message)s")
    try:
        return int(args.func(args))
    except (InputError, ModelFormatError, RuleError, ValueError, TypeError) as exc:
        print(f"redflag {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
