"""A Go program on github.com/emersion/go-imap v1 (Debian's source package,
built offline in GOPATH mode), over IMAPS with the certificate verified: the
library scenario (clientlib.LIBRARY_SCENARIO)."""

import os
import shutil

import pytest

import clientlib

CLIENT = {
    "name": "Go emersion/go-imap v1",
    "package": "golang-github-emersion-go-imap-dev",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


@pytest.fixture(scope="module")
def go_binary(tmp_path_factory):
    if not clientlib.have("go"):
        pytest.skip("go is not installed")
    gopath = tmp_path_factory.mktemp("gopath")
    src = gopath / "src" / "petrelclient"
    src.mkdir(parents=True)
    shutil.copy(os.path.join(clientlib.HERE, "go", "main.go"), src / "main.go")
    exe = gopath / "petrel-go-imap"
    clientlib.run(["go", "build", "-o", str(exe), "petrelclient"], timeout=300,
                  env={"GOPATH": f"{gopath}:/usr/share/gocode", "GO111MODULE": "off",
                       "GOFLAGS": "", "GOPROXY": "off", "GOCACHE": str(gopath / "cache")})
    return str(exe)


def test_go_imap(petrel, workdir, go_binary):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run([go_binary, *clientlib.library_args(petrel, workdir)], timeout=120)
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids)
