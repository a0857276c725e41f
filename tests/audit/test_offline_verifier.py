"""The standalone verifier, run as an auditor would: a separate Python process that can import
the standard library and `cryptography` but neither Django nor the portal, on real exports,
packs and checkpoints downloaded from the portal, genuine and tampered."""

import ast
import hashlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from almportal.audit import signing
from almportal.audit.models import LedgerEntry
from almportal.audit.offline import alm_verify
from almportal.audit.services import ledger_catch_up

from .test_pack_and_as_of import pack_of
from .test_tampering import cut_tail, rebuild_chain

pytestmark = pytest.mark.django_db

SCRIPT = Path(alm_verify.__file__)
# What `cryptography` needs at run time; everything else (Django first) stays out of reach.
RUNTIME = ("cryptography", "cffi", "_cffi_backend", "pycparser")


@pytest.fixture(scope="session")
def offline_dir(tmp_path_factory) -> Path:
    """A folder holding a copy of the script and only the packages cryptography needs."""
    folder = tmp_path_factory.mktemp("offline")
    shutil.copy(SCRIPT, folder / "alm_verify.py")
    packages = folder / "packages"
    packages.mkdir()
    for name in RUNTIME:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (packages / source.name).symlink_to(source)
    return folder


def run_verifier(offline_dir: Path, *args: str | Path) -> subprocess.CompletedProcess:
    """-S: no site-packages (so no Django); only the copied script and cryptography."""
    return subprocess.run(
        [sys.executable, "-S", str(offline_dir / "alm_verify.py"), *map(str, args)],
        cwd=offline_dir, env={"PYTHONPATH": str(offline_dir / "packages")},
        capture_output=True, text=True, timeout=60, check=False)


def test_the_verifier_process_cannot_import_django(offline_dir):
    probe = subprocess.run([sys.executable, "-S", "-c", "import django"], cwd=offline_dir,
                           env={"PYTHONPATH": str(offline_dir / "packages")},
                           capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and "No module named 'django'" in probe.stderr
    imported = set()
    for node in ast.walk(ast.parse(SCRIPT.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


@pytest.fixture
def downloads(released_agent, client, exporter, tmp_path):
    """An export of each kind, the agent's pack, the public key and the latest checkpoint, as
    an auditor downloads them."""
    ledger_catch_up()
    client.force_login(exporter)
    files = {}
    for name, url in [("export.jsonl", "/audit/export.jsonl"), ("export.csv", "/audit/export.csv")]:
        response = client.get(url)
        assert response.status_code == 200
        files[name] = tmp_path / name
        files[name].write_bytes(b"".join(response.streaming_content))
    files["pack.zip"] = tmp_path / "pack.zip"
    files["pack.zip"].write_bytes(pack_of(client, f"/audit/agents/{released_agent.slug}/"
                                                  "evidence-pack.zip"))
    files["key.pem"] = tmp_path / "key.pem"
    files["key.pem"].write_bytes(client.get("/audit/signing-key.pem").content)
    checkpoint = client.get("/api/v1/audit/checkpoints/").json()["results"][0]["document"]
    files["checkpoint.json"] = tmp_path / "checkpoint.json"
    files["checkpoint.json"].write_text(json.dumps(checkpoint))
    return files


@pytest.mark.parametrize("name", ["export.jsonl", "export.csv", "pack.zip", "checkpoint.json"])
def test_it_accepts_genuine_files(offline_dir, downloads, name):
    run = run_verifier(offline_dir, downloads[name], "--key", downloads["key.pem"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OK") or "\nOK" in run.stdout


def test_it_checks_a_genuine_pack_record_by_record(offline_dir, downloads):
    run = run_verifier(offline_dir, downloads["pack.zip"], "--key", downloads["key.pem"])
    records = int(run.stdout.rsplit(" records", 1)[0].rsplit(" ", 1)[-1])
    assert records >= 4  # the agent, its components and its release at least


def _rewrite_zip(path: Path, edit) -> None:
    """Edit one file and regenerate the MANIFEST, as a careful forger would."""
    original = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    files = {name: original.read(name) for name in original.namelist()}
    files = edit(files)
    files["MANIFEST.sha256"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in sorted(files.items()) if name != "MANIFEST.sha256").encode()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)


def _edit_line(path: Path, find: str, replace: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert find in text
    path.write_text(text.replace(find, replace, 1), encoding="utf-8")


def test_it_refuses_an_edited_jsonl_export(offline_dir, downloads, released_agent):
    _edit_line(downloads["export.jsonl"], '"reason":"Fits the roadmap"',
               '"reason":"Approved by the board"')
    run = run_verifier(offline_dir, downloads["export.jsonl"], "--key", downloads["key.pem"])
    assert run.returncode == 1
    assert "does not match its hash" in run.stdout


def test_it_refuses_an_edited_csv_export(offline_dir, downloads):
    _edit_line(downloads["export.csv"], "Fits the roadmap", "Approved by the board")
    run = run_verifier(offline_dir, downloads["export.csv"], "--key", downloads["key.pem"])
    assert run.returncode == 1
    assert "does not match its hash" in run.stdout


def test_it_refuses_a_cut_export(offline_dir, downloads):
    lines = downloads["export.jsonl"].read_text().splitlines(keepends=True)
    downloads["export.jsonl"].write_text("".join(lines[:-3]))
    run = run_verifier(offline_dir, downloads["export.jsonl"])
    assert run.returncode == 1
    assert "closing line is missing" in run.stdout


def test_it_refuses_a_pack_with_an_edited_record_file(offline_dir, downloads):
    def edit(files):
        record = json.loads(files["agent/agent.json"])
        record["business_unit"] = "Somebody else's unit"
        files["agent/agent.json"] = json.dumps(record).encode()
        return files

    _rewrite_zip(downloads["pack.zip"], edit)
    run = run_verifier(offline_dir, downloads["pack.zip"], "--key", downloads["key.pem"])
    assert run.returncode == 1
    assert "agent/agent.json" in run.stdout and "business_unit" in run.stdout


def test_it_refuses_a_pack_with_a_forged_checkpoint(offline_dir, downloads):
    def edit(files):
        document = json.loads(files["ledger/checkpoint.json"])
        document["seq"] += 5
        files["ledger/checkpoint.json"] = json.dumps(document).encode()
        return files

    _rewrite_zip(downloads["pack.zip"], edit)
    run = run_verifier(offline_dir, downloads["pack.zip"], "--key", downloads["key.pem"])
    assert run.returncode == 1
    assert "ledger/checkpoint.json: the signature does not verify" in run.stdout


def test_it_refuses_a_tampered_checkpoint(offline_dir, downloads):
    document = json.loads(downloads["checkpoint.json"].read_text())
    document["hash"] = "0" * 64
    downloads["checkpoint.json"].write_text(json.dumps(document))
    run = run_verifier(offline_dir, downloads["checkpoint.json"], "--key", downloads["key.pem"])
    assert run.returncode == 1
    assert "signature does not verify" in run.stdout


def test_it_refuses_a_checkpoint_under_another_key(offline_dir, downloads, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pem"
    other.write_text(signing.public_key_pem(Ed25519PrivateKey.generate().public_key()))
    run = run_verifier(offline_dir, downloads["checkpoint.json"], "--key", other)
    assert run.returncode == 1
    assert "not with the key given" in run.stdout


@pytest.mark.parametrize(("tamper_with", "named"), [
    (rebuild_chain, "the chain was rebuilt"), (cut_tail, "the tail was cut")])
def test_a_later_export_disagrees_with_an_earlier_checkpoint(
        offline_dir, downloads, released_agent, client, tmp_path, tamper_with, named):
    """The auditor kept a checkpoint; the ledger was rebuilt or cut since; the next whole
    export, however consistent in itself, does not reach or match it."""
    tamper_with(list(LedgerEntry.objects.order_by("seq")), released_agent)
    later = tmp_path / "later.jsonl"
    later.write_bytes(b"".join(client.get("/audit/export.jsonl").streaming_content))
    run = run_verifier(offline_dir, later, "--key", downloads["key.pem"],
                       "--checkpoint", downloads["checkpoint.json"])
    assert run.returncode == 1
    assert named in run.stdout


def test_it_says_when_signatures_were_not_checked(offline_dir, downloads):
    run = run_verifier(offline_dir, downloads["checkpoint.json"])
    assert run.returncode == 0
    assert "signature not checked" in run.stdout


def test_an_unreadable_file_is_exit_status_two(offline_dir, tmp_path):
    run = run_verifier(offline_dir, tmp_path / "missing.jsonl")
    assert run.returncode == 2
