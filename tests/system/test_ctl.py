"""peercdnctl as an operator uses it: check, explain and name over the
default federation and over broken configs."""
import re

import pytest


def answer(stdout):
    """(branch, cdn, first server) from the 'answer' block of explain."""
    m = re.search(r"^answer +([A-Z]+) from CDN (\S+):", stdout, re.M)
    assert m, stdout
    server = re.search(r"^ +-> (\S+)", stdout, re.M)
    return m.group(1), m.group(2), server.group(1) if server else None


def test_check_default_config(ctl, source_dir):
    out = ctl("check", source_dir / "etc" / "peercdn.yaml", check=0).stdout
    assert "ok: 3 CDNs" in out


BAD_CONFIGS = {
    "typo": ("servers:\n  - {name: s1, cdn: acme, as: 100, capcity: 5}\n", r"capcity"),
    "unknown_cdn_in_agreement": (
        "agreements:\n  - {name: x, between: [acme, gama], services: [web]}\n", r"gama"),
    "duplicate_prefix": ("clients:\n  - {prefix: 127.1.0.0/17, as: 100}\n", r"127\.1\.0\.0/17"),
    "affiliation_loop": None,
    "server_in_no_cdn": ("servers:\n  - {name: lost, as: 100, addresses: [127.9.0.1],"
                         " tier: edge, services: [web], capacity: 1}\n", r"lost|cdn"),
}


def broken_config(source_dir, case):
    """The default config with one mistake appended into an existing list."""
    text = (source_dir / "etc" / "peercdn.yaml").read_text()
    if case == "affiliation_loop":
        # AS 100 is acme's backbone; listing it as acme's affiliate too.
        return text.replace("affiliates: [400, 500]", "affiliates: [400, 500, 100]", 1), r"100"
    snippet, pattern = BAD_CONFIGS[case]
    section, item = snippet.split("\n", 1)
    # Insert the item at the start of the existing section of that name.
    return text.replace("\n" + section + "\n", "\n" + section + "\n" + item, 1), pattern


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_check_rejects_bad_config(ctl, source_dir, tmp_path, case):
    text, pattern = broken_config(source_dir, case)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    proc = ctl("check", path, check=1)
    assert "ok:" not in proc.stdout
    # Every diagnostic names the file, a line and a column.
    assert re.search(re.escape(str(path)) + r":\d+:\d+: ", proc.stderr), proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr


def test_check_missing_file(ctl, tmp_path):
    proc = ctl("check", tmp_path / "nope.yaml", check=1)
    assert "cannot read" in proc.stderr


@pytest.mark.parametrize("client,target,branch,cdn", [
    ("127.1.0.10", "ad102.web.abc.cdn.acme.net", "PRIMARY", "acme"),
    ("127.2.0.10", "ad102.web.abc.cdn.acme.net", "PEER", "beta"),
    ("127.3.0.10", "chan4.abc.tv.cdn.acme.net", "OUTSIDE", "acme"),
    ("127.6.0.10", "http://foo.cdn.beta.net/www.foo.com/index.html", "OUTSIDE", "beta"),
    ("127.4.0.10", "http://foo.cdn.beta.net/cdn.foo.com/Channel12", "PEER", "acme"),
    ("2001:db8:200::1", "ad102.web.abc.cdn.acme.net", "PEER", "beta"),
])
def test_explain_branches_of_claim_2(ctl, client, target, branch, cdn):
    out = ctl("explain", "--client", client, target, check=0).stdout
    got_branch, got_cdn, server = answer(out)
    assert (got_branch, got_cdn) == (branch, cdn), out
    assert server is not None
    if branch == "PRIMARY":
        assert "report    none" in out
    else:
        # Claim 3: the provider hears of every service outside its primary CDN.
        assert re.search(r"^report +to \S+: .*branch=" + branch, out, re.M), out


def test_explain_prunes_down_and_loaded_servers(ctl):
    out = ctl("explain", "--client", "127.1.0.10", "--down", "acme-s1", "--load",
              "acme-s2=990", "ad102.web.abc.cdn.acme.net", check=0).stdout
    assert re.search(r"drop +acme-s1 .*DOWN", out), out
    assert re.search(r"drop +acme-s2 .*LOAD", out), out
    # abc is gold: the core tier is not allowed either.
    assert re.search(r"drop +acme-core .*GRADE_TIER", out), out
    assert answer(out)[2] not in ("acme-s1", "acme-s2", "acme-core")


@pytest.mark.parametrize("offer,client,reason", [
    ("beta:vod", "127.2.0.10", "does not offer us the service"),
    ("beta:web,vod:5000:200", "127.3.0.10", "outside the footprint"),
    ("beta:web:100", "127.2.0.10", "load 110 reached the capacity"),
])
def test_explain_offer_moves_peer(ctl, offer, client, reason):
    """Claim 9: beta's offer to acme, as the overlay would bring it, keeps
    beta out of PEER; without it (or with one that allows) PEER at beta."""
    target = "ad102.web.abc.cdn.acme.net"
    loads = ["--load", "beta-s1=60", "--load", "beta-s2=50"]
    before = ctl("explain", "--client", client, *loads, target, check=0).stdout
    assert answer(before)[:2] == ("PEER", "beta"), before
    out = ctl("explain", "--client", client, *loads, "--offer", offer, target, check=0).stdout
    assert answer(out)[:2] == ("OUTSIDE", "acme"), out
    assert re.search(r"^ +offer +CDN beta: .*" + reason, out, re.M), out
    assert re.search(r"^ +flags .*OFFER", out, re.M), out
    allows = ctl("explain", "--client", "127.2.0.10", *loads, "--offer", "beta:web,vod:500:200",
                 target, check=0).stdout
    assert answer(allows)[:2] == ("PEER", "beta"), allows


def test_explain_bad_offer(ctl):
    proc = ctl("explain", "--client", "127.2.0.10", "--offer", "beta:nosuch",
               "ad102.web.abc.cdn.acme.net")
    assert proc.returncode == 1
    assert "nosuch" in proc.stderr


def test_explain_bad_name(ctl):
    proc = ctl("explain", "--client", "127.1.0.10", "ad102.web.nobody.cdn.acme.net")
    assert proc.returncode == 1
    assert proc.stderr.strip()


def test_explain_bad_client(ctl):
    proc = ctl("explain", "--client", "300.1.1.1", "ad102.web.abc.cdn.acme.net")
    assert proc.returncode == 1
    assert "--client" in proc.stderr


def test_name_signed_and_encrypted_round_trip(ctl):
    name = ctl("name", "--provider", "abc", "--service", "web", "--object", "ad102",
               "--sign", "--encrypt", check=0).stdout.strip()
    assert name.endswith(".abc.cdn.acme.net") and "ad102" not in name
    out = ctl("explain", "--client", "127.1.0.10", name, check=0).stdout
    assert "signature valid" in out and "encrypted" in out
    assert 'object "ad102"' in out
    assert answer(out)[0] == "PRIMARY"


def test_name_signature_required(ctl):
    signed = ctl("name", "--provider", "news", "--service", "live", "--object", "chan7",
                 "--sign", check=0).stdout.strip()
    out = ctl("explain", "--client", "127.6.0.10", signed, check=0).stdout
    assert "signature valid" in out and "warning" not in out
    unsigned = "chan7.live.news.cdn.gamma.net"
    out = ctl("explain", "--client", "127.6.0.10", unsigned, check=0).stdout
    assert "requires a valid signature" in out


def key_tables(markdown):
    """{section: [(key, type, default, meaning), ...]} of every key table
    (one under a heading naming its section: "## `servers[]`")."""
    tables, section = {}, None
    for line in markdown.splitlines():
        heading = re.match(r"^#+ (.*)$", line)
        if heading:
            section = heading.group(1).replace("`", "").strip()
            continue
        if not line.startswith("| ") or line.startswith("| key |") or section is None:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, line
        tables.setdefault(section, []).append(tuple(cells))
    return tables


def test_keys_match_docs(ctl, source_dir):
    """docs/config.md's key tables are the loader's key tables: a key, type,
    default or meaning changed in one place only fails here."""
    printed = key_tables(ctl("keys", check=0).stdout)
    documented = key_tables((source_dir / "docs" / "config.md").read_text())
    assert "dns" in printed and "cdns[].anycast" in printed and "http" in printed
    for section in sorted(set(printed) | set(documented)):
        assert documented.get(section) == printed.get(section), section


def test_help_options(ctl):
    """`--help` is `-h`: usage on standard output, exit 0, for both tools;
    peercdnctl's usage says what unit --load is in."""
    import subprocess
    from conftest import PEERCDND
    for flag in ("-h", "--help"):
        proc = subprocess.run([str(PEERCDND), flag], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, (flag, proc.stderr)
        assert proc.stdout.startswith("usage: peercdnd"), (flag, proc.stdout)
        assert "invalid option" not in proc.stderr
    out = ctl("--help", check=0).stdout
    assert "--load SERVER=N" in out
    assert re.search(r"--load.*capacity units|capacity units.*--load", out, re.S), out
