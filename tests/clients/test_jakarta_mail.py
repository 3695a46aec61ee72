"""Jakarta Mail 2 (Debian's libjakarta-mail-java) on the installed JDK, over
IMAPS with the certificate verified (a PKCS#12 trust store made with
keytool, server identity checked): the library scenario."""

import os

import pytest

import clientlib

CLIENT = {
    "name": "Jakarta Mail (Java)",
    "package": "libjakarta-mail-java",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}

JARS = ["/usr/share/java/jakarta-mail.jar", "/usr/share/java/jakarta-activation.jar"]


@pytest.fixture(scope="module")
def java_classes(tmp_path_factory):
    if not (clientlib.have("javac") and all(os.path.exists(j) for j in JARS)):
        pytest.skip("javac or the Jakarta Mail jars are not installed")
    out = tmp_path_factory.mktemp("java")
    clientlib.run(["javac", "-encoding", "UTF-8", "-cp", ":".join(JARS), "-d", str(out),
                   os.path.join(clientlib.HERE, "java", "JakartaScenario.java")], timeout=300)
    return str(out)


def test_jakarta_mail(petrel, workdir, java_classes):
    store = workdir / "trust.p12"
    clientlib.run(["keytool", "-importcert", "-noprompt", "-alias", "petrel", "-file", petrel.ca,
                   "-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"])
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["java", "-Dfile.encoding=UTF-8", "-Dstdout.encoding=UTF-8",
                       f"-Djavax.net.ssl.trustStore={store}",
                       "-Djavax.net.ssl.trustStorePassword=changeit",
                       "-cp", ":".join([java_classes, *JARS]), "JakartaScenario",
                       *clientlib.library_args(petrel, workdir)], timeout=120)
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids)
