"""Lab tool for engineers debugging a bench: ``python -m harness.crypto {link-key,cert,cbke,mint}``.

Every command prints one JSON object on stdout. Bad arguments or rejected material exit with status 2 and
one line on stderr naming the problem ("error: ..."), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from .cbke import CbkeParty, Role
from .curves import curve_for_suite
from .ecqv import TestCA, ieee_msb_first, parse_certificate
from .errors import CryptoError
from .install_code import InstallCode

EXIT_USAGE = 2


class UsageError(Exception):
    """A command-line value that cannot be used; the message is the one line printed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print the usage block too
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message}\n")


def _hex(value: str, what: str) -> bytes:
    text = "".join(ch for ch in value.strip() if ch not in " :-")
    if text.lower().startswith("0x"):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not hexadecimal") from None


def _upper(data: bytes) -> str:
    return data.hex().upper()


def cmd_link_key(args: argparse.Namespace) -> dict[str, str | int]:
    code = InstallCode.parse(args.code)
    return {
        "install_code": _upper(code.code),
        "crc": _upper(code.crc.to_bytes(2, "little")),  # as appended to the code (little-endian)
        "install_code_with_crc": _upper(code.with_crc),
        "link_key": _upper(code.link_key),
    }


def cmd_cert(args: argparse.Namespace) -> dict[str, str | int]:
    cert = parse_certificate(_hex(args.certificate, "certificate"))
    result = cert.to_dict()
    if args.ca is not None:
        public = cert.public_key(_hex(args.ca, "CA public key"))
        result["public_key"] = _upper(cert.curve.encode_point(public))
    return result


def cmd_cbke(args: argparse.Namespace) -> dict[str, str | int]:
    curve = curve_for_suite(args.suite)
    party = CbkeParty(
        args.suite,
        _hex(args.ca, "CA public key"),
        _hex(args.cert, "certificate"),
        _hex(args.key, "static private key"),
    )
    # Annex C gives an ephemeral private key above n for suite 2; ECMQV only uses it mod n.
    ephemeral = curve.decode_private_key(_hex(args.ephemeral_key, "ephemeral private key"), "ephemeral private key",
                                         reduce=True)
    party.ephemeral(ephemeral)
    role = Role(args.role)
    keys = party.derive(_hex(args.peer_cert, "peer certificate"), _hex(args.peer_ephemeral, "peer ephemeral key"), role)
    return {
        "z": _upper(keys.z),
        "mac_key": _upper(keys.mac_key),
        "key_data": _upper(keys.key_data),
        "mac_u": _upper(keys.mac_u),
        "mac_v": _upper(keys.mac_v),
        "ephemeral_public": _upper(party.ephemeral_public_bytes or b""),
    }


def cmd_mint(args: argparse.Namespace) -> dict[str, str | int]:
    ca = TestCA.from_bytes(_hex(args.ca_key, "CA private key"))
    subject = ieee_msb_first(_hex(args.subject, "subject EUI-64"), "subject EUI-64")
    issued = ca.issue(subject, args.suite)
    return {
        "suite": args.suite,
        "certificate": _upper(issued.certificate),
        "private_key": _upper(issued.private_key_bytes),
        "ca_public_key": _upper(ca.public_key_bytes(args.suite)),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness.crypto", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    link_key = commands.add_parser("link-key", help="install code (with or without CRC) -> CRC and link key")
    link_key.add_argument("code", metavar="CODE_HEX")
    link_key.set_defaults(run=cmd_link_key)

    cert = commands.add_parser("cert", help="parse an implicit certificate (48 or 74 bytes)")
    cert.add_argument("certificate", metavar="CERT_HEX")
    cert.add_argument("--ca", metavar="CA_PUBLIC_HEX", help="CA public key: also reconstruct the subject's key")
    cert.set_defaults(run=cmd_cert)

    cbke = commands.add_parser("cbke", help="derive Z, MacKey, KeyData, MACU and MACV for one side")
    cbke.add_argument("--suite", type=int, choices=(1, 2), required=True)
    cbke.add_argument("--ca", required=True, metavar="HEX", help="CA public key (compressed)")
    cbke.add_argument("--role", choices=[r.value for r in Role], required=True)
    cbke.add_argument("--cert", required=True, metavar="HEX", help="own certificate")
    cbke.add_argument("--key", required=True, metavar="HEX", help="own static private key")
    cbke.add_argument("--ephemeral-key", required=True, metavar="HEX", help="own ephemeral private key")
    cbke.add_argument("--peer-cert", required=True, metavar="HEX")
    cbke.add_argument("--peer-ephemeral", required=True, metavar="HEX", help="peer ephemeral public key (compressed)")
    cbke.set_defaults(run=cmd_cbke)

    mint = commands.add_parser("mint", help="issue a certificate and private key from a test CA")
    mint.add_argument("--ca-key", required=True, metavar="HEX", help="test CA private key")
    mint.add_argument("--subject", required=True, metavar="EUI64_HEX", help="subject IEEE address, MSB first")
    mint.add_argument("--suite", type=int, choices=(1, 2), default=1)
    mint.set_defaults(run=cmd_mint)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except (UsageError, CryptoError) as exc:  # CryptoError messages already name the problem
        print(f"error: {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
