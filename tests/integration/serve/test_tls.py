"""``hifipose serve --certfile/--keyfile``: HTTPS and WSS from a real uvicorn over real TLS.

The test makes its own certificate authority and a server certificate for 127.0.0.1 with
the ``openssl`` command, and talks to the server with clients that trust only that CA.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from hifipose.serve.protocol import encode_frame
from tests.integration.serve.helpers import get_json, running_server, squat_jpegs


def openssl(*args: str, cwd: Path) -> None:
    command = shutil.which("openssl")
    if command is None:
        pytest.fail("the openssl command is needed to make the test's certificates")
    subprocess.run([command, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA, and a certificate for 127.0.0.1 and localhost signed by it.

    Returns:
        (CA certificate, server certificate, server key), PEM files.
    """
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=hifipose test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
            cwd=folder)  # fmt: skip
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        cwd=folder,
    )  # fmt: skip
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


def test_serve_speaks_https_and_wss_with_the_given_certificate(tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path)
    trusting = ssl.create_default_context(cafile=str(ca))
    args = ("--certfile", str(cert), "--keyfile", str(key))
    with running_server(tmp_path, *args, context=trusting) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        # The page and the API over HTTPS, verified against the test CA.
        with urllib.request.urlopen(f"{server.base_url}/", context=trusting) as page:  # noqa: S310
            assert page.status == 200 and b"hifipose" in page.read()
        assert get_json(f"{server.base_url}/api/info", context=trusting)["sessions"] == 0
        # A client that does not trust the CA is refused by TLS itself.
        with pytest.raises(urllib.error.URLError) as untrusted:
            urllib.request.urlopen(  # noqa: S310
                f"{server.base_url}/api/info", context=ssl.create_default_context(), timeout=10
            )
        assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)
        # The live stream over WSS: a frame of the squat clip comes back with a pose.
        with connect(server.ws_url, ssl=trusting, open_timeout=30) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "hello"
            assert json.loads(ws.recv(timeout=60))["type"] == "config"
            ws.send(encode_frame(5, 0.0, squat_jpegs()[0]))
            result = json.loads(ws.recv(timeout=60))
            assert result["type"] == "result" and result["frame_id"] == 5
            assert len(result["poses"]) == 1
        out = server.log()
        assert f"open {server.base_url}/" in out, out
