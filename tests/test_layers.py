"""Defaults, bases and environment overlays: merge order, resets, provenance, explain."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import Run, write_group


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _diagnostics(run_pops: Run, repo: Path, *args: str) -> tuple[int, list[dict]]:
    done = run_pops("validate", "--format", "json", *args, cwd=repo)
    assert "Traceback" not in done.stderr + done.stdout
    return done.returncode, json.loads(done.stdout)["diagnostics"]


@pytest.fixture
def family(repo: Path) -> Path:
    """_defaults < _brand < _chain < group < staging overlay."""
    _write(
        repo / "groups/_defaults.yaml",
        "payments:\n"
        "  credit_card: true\n"
        "look_and_feel:\n"
        "  footer:\n"
        "    text: Questions? Call the billing office.\n"
        "    email: billing@office.example.com\n"
        "notifications:\n"
        "  email_from: no-reply@office.example.com\n",
    )
    _write(
        repo / "groups/_brand.yaml",
        "branding:\n"
        "  logo_url: https://cdn.example.com/brand/logo.png\n"
        "theme:\n"
        "  colors:\n"
        '    primary: "#283593"\n'
        '    secondary: "#455a64"\n',
    )
    _write(
        repo / "groups/_chain.yaml",
        'extends: brand\ntheme:\n  colors:\n    primary: "#00695c"\n',
    )
    write_group(
        repo,
        "alpha",
        "extends: chain\nname: Chain Alpha\nlook_and_feel:\n  footer:\n    text:\n",
    )
    write_group(repo, "beta", "name: Solo Beta\npayments:\n  require_cvv: true\n")
    _write(
        repo / "environments/staging.yaml",
        "overlays:\n"
        "  - groups: all\n"
        "    values:\n"
        "      notifications:\n"
        "        email_from: no-reply@staging.example.com\n"
        "  - groups: [alpha]\n"
        "    values:\n"
        "      theme:\n"
        "        colors:\n"
        '          primary: "#1a237e"\n',
    )
    return repo


def _config(repo: Path, rel: str) -> dict:
    return json.loads((repo / "dist" / rel).read_text())


def test_merge_order_and_null_reset(family: Path, run_pops: Run) -> None:
    done = run_pops("build", cwd=family)
    assert done.returncode == 0, done.stdout + done.stderr
    alpha = _config(family, "groups/alpha/config.json")
    # _chain overrides _brand; _brand's secondary survives; defaults apply under all.
    assert alpha["theme"]["colors"]["primary"] == "#00695c"
    assert alpha["theme"]["colors"]["secondary"] == "#455a64"
    assert alpha["branding"]["logoUrl"] == "https://cdn.example.com/brand/logo.png"
    assert alpha["payments"]["creditCard"] is True
    # `text:` with no value resets to the built-in default (none), email stays.
    assert alpha["lookAndFeel"]["footer"]["text"] is None
    assert alpha["lookAndFeel"]["footer"]["email"] == "billing@office.example.com"
    beta = _config(family, "groups/beta/config.json")
    assert beta["lookAndFeel"]["footer"]["text"] == "Questions? Call the billing office."
    assert beta["theme"]["colors"]["primary"] == "#0065bd"  # built-in, no base
    # The staging overlay applies on top, only where it targets.
    staging_alpha = _config(family, "staging/groups/alpha/config.json")
    staging_beta = _config(family, "staging/groups/beta/config.json")
    assert staging_alpha["theme"]["colors"]["primary"] == "#1a237e"
    assert staging_beta["theme"]["colors"]["primary"] == "#0065bd"
    assert staging_beta["notifications"]["emailFrom"] == "no-reply@staging.example.com"
    assert beta["notifications"]["emailFrom"] == "no-reply@office.example.com"
    manifest = _config(family, "staging/manifest.json")
    assert manifest["groups"] == ["alpha", "beta"]
    assert all(not f["path"].startswith("staging/") for f in manifest["files"])


def test_build_check_is_exact_with_environments(family: Path, run_pops: Run) -> None:
    assert run_pops("build", cwd=family).returncode == 0
    assert run_pops("build", "--check", cwd=family).returncode == 0
    _write(
        family / "groups/_defaults.yaml",
        (family / "groups/_defaults.yaml").read_text().replace("office.example", "desk.example"),
    )
    done = run_pops("build", "--check", cwd=family)
    assert done.returncode == 1
    assert "changed  dist/groups/alpha/config.json" in done.stdout
    assert "changed  dist/staging/groups/beta/config.json" in done.stdout
    assert "changed  dist/manifest.json" in done.stdout  # inputsDigest covers _defaults


def test_env_build_replaces_only_its_folder(family: Path, run_pops: Run) -> None:
    assert run_pops("build", cwd=family).returncode == 0
    base_before = {k: v for k, v in _tree(family / "dist").items() if not k.startswith("staging/")}
    done = run_pops("build", "--env", "staging", cwd=family)
    assert done.returncode == 0, done.stderr
    after = _tree(family / "dist")
    assert {k: v for k, v in after.items() if not k.startswith("staging/")} == base_before
    assert "staging/groups/alpha/config.json" in after
    assert run_pops("build", "--env", "nope", cwd=family).returncode == 2


def test_error_in_defaults_reported_once_at_its_line_with_groups(
    family: Path, run_pops: Run
) -> None:
    _write(
        family / "groups/_defaults.yaml",
        "payments:\n  credit_card: true\n  email_receipt: true\n",
    )
    code, found = _diagnostics(run_pops, family)
    assert code == 1
    here = [d for d in found if d["file"] == "groups/_defaults.yaml"]
    # email_receipt without email_from breaks both groups: one diagnostic, both named.
    assert [(d["line"], d["column"], d["code"]) for d in here] == [(3, 18, "email-from-missing")]
    assert here[0]["message"].endswith("(breaks 2 groups: alpha, beta)")


def test_unknown_keys_in_base_and_overlay(family: Path, run_pops: Run) -> None:
    _write(family / "groups/_brand.yaml", "branding:\n  logo_ur: https://x.example.com/l.png\n")
    _write(
        family / "environments/staging.yaml",
        "overlays:\n  - groups: all\n    valeus: {}\n    values:\n      payment: {}\n",
    )
    code, found = _diagnostics(run_pops, family)
    assert code == 1
    got = {(d["file"], d["line"], d["column"], d["code"], d["path"]) for d in found}
    assert ("groups/_brand.yaml", 2, 3, "key-unknown", "branding.logo_ur") in got
    assert ("environments/staging.yaml", 3, 5, "key-unknown", "overlays[0].valeus") in got
    assert ("environments/staging.yaml", 5, 7, "key-unknown", "payment") in got
    # Reported once per place, not once per group.
    assert len([d for d in found if d["path"] == "branding.logo_ur"]) == 1


def test_unused_base_is_still_checked(repo: Path, run_pops: Run) -> None:
    write_group(repo, "solo", "name: Solo\npayments:\n  credit_card: true\n")
    _write(repo / "groups/_unused.yaml", "theme:\n  dark: yes\n")
    code, found = _diagnostics(run_pops, repo)
    assert code == 1
    assert [(d["file"], d["line"], d["column"], d["code"]) for d in found] == [
        ("groups/_unused.yaml", 2, 9, "type-bool")
    ]


@pytest.mark.parametrize(
    ("files", "group", "expected"),
    [
        (
            {"_a.yaml": "extends: b\n", "_b.yaml": "extends: a\n"},
            "extends: a\n",
            (3, "extends-cycle", "groups/_b.yaml", 1, 10),
        ),
        ({}, "extends: missing\n", (0, "extends-missing", "groups/g.yaml", 1, 10)),
        (
            {"other.yaml": "name: Other\npayments:\n  credit_card: true\n"},
            "extends: other\n",
            (0, "extends-group", "groups/g.yaml", 1, 10),
        ),
    ],
    ids=["cycle", "missing-base", "group-extends-group"],
)
def test_extends_errors_at_the_extends_line(
    repo: Path, run_pops: Run, files: dict[str, str], group: str, expected: tuple
) -> None:
    for name, text in files.items():
        _write(repo / "groups" / name, text)
    write_group(repo, "g", group + "name: G\npayments:\n  credit_card: true\n")
    code, found = _diagnostics(run_pops, repo)
    assert code == 1
    _, rule, file, line, column = expected
    hits = [d for d in found if d["code"] == rule]
    assert len(hits) == 1, found
    assert (hits[0]["file"], hits[0]["line"], hits[0]["column"]) == (file, line, column)
    assert hits[0]["path"] == "extends"


def test_cycle_message_names_the_chain(repo: Path, run_pops: Run) -> None:
    _write(repo / "groups/_a.yaml", "extends: b\n")
    _write(repo / "groups/_b.yaml", "extends: a\n")
    write_group(repo, "g", "extends: a\nname: G\npayments:\n  credit_card: true\n")
    _, found = _diagnostics(run_pops, repo)
    assert "(a -> b -> a)" in found[0]["message"]


def test_overlay_can_break_and_fix_a_rule(family: Path, run_pops: Run) -> None:
    # Break: staging sets a yellow primary for alpha only.
    text = (family / "environments/staging.yaml").read_text().replace("#1a237e", "#ffeb3b")
    _write(family / "environments/staging.yaml", text)
    code, found = _diagnostics(run_pops, family)
    assert code == 1
    hits = [d for d in found if d["code"] == "contrast-low"]
    assert {(d["file"], d["line"], d["column"]) for d in hits} == {
        ("environments/staging.yaml", 10, 20)
    }
    assert all("(breaks 1 group: alpha)" in d["message"] for d in hits)
    assert run_pops("validate", cwd=family).returncode == 1
    # The base build alone is fine, and --env selects just the broken one.
    assert _diagnostics(run_pops, family, "--env", "staging")[0] == 1
    # Fix: a group whose own colour fails is fixed by an overlay in production.
    write_group(family, "beta", 'name: Solo Beta\ntheme:\n  colors:\n    primary: "#ffeb3b"\n')
    _write(
        family / "environments/staging.yaml",
        "overlays:\n  - groups: [beta]\n    values:\n      theme:\n        colors:\n"
        '          primary: "#0d47a1"\n',
    )
    code, found = _diagnostics(run_pops, family, "--env", "staging")
    assert code == 0, found


def test_invalid_overlay_leaves_dist_untouched(family: Path, run_pops: Run) -> None:
    assert run_pops("build", cwd=family).returncode == 0
    before = _tree(family / "dist")
    _write(
        family / "environments/staging.yaml",
        "overlays:\n  - groups: [alpha, nobody]\n    values:\n      theme: {dark: maybe}\n",
    )
    done = run_pops("build", cwd=family)
    assert done.returncode == 1
    assert "overlay-unknown-group" in done.stdout and "type-bool" in done.stdout
    assert _tree(family / "dist") == before
    done = run_pops("build", "--env", "staging", cwd=family)
    assert done.returncode == 1
    assert _tree(family / "dist") == before


def test_explain_names_each_layer(family: Path, run_pops: Run) -> None:
    done = run_pops("explain", "alpha", "--env", "staging", cwd=family)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()

    def line_of(key: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(key + " = "))

    primary = line_of("theme.colors.primary")
    assert lines[primary] == 'theme.colors.primary = "#1a237e"  <- environments/staging.yaml:10:20'
    assert lines[primary + 1] == '    overrides "#00695c" from groups/_chain.yaml:4:14'
    assert lines[primary + 2] == '    overrides "#283593" from groups/_brand.yaml:5:14'
    assert lines[line_of("theme.colors.secondary")] == (
        'theme.colors.secondary = "#455a64"  <- groups/_brand.yaml:6:16'
    )
    assert lines[line_of("payments.credit_card")] == (
        "payments.credit_card = true  <- groups/_defaults.yaml:2:16"
    )
    assert lines[line_of("name")] == 'name = "Chain Alpha"  <- groups/alpha.yaml:2:7'
    text = line_of("look_and_feel.footer.text")
    assert lines[text] == (
        "look_and_feel.footer.text = null  <- groups/alpha.yaml:5:5 (reset to the built-in default)"
    )
    assert lines[text + 1] == (
        '    overrides "Questions? Call the billing office." from groups/_defaults.yaml:5:11'
    )
    assert lines[line_of("payments.apple_pay")] == "payments.apple_pay = false  <- built-in default"
    assert lines[line_of("theme.colors.info")] == (
        'theme.colors.info = "#0068b0"  <- built-in light palette'
    )
    # Each colour's lowest pair, WCAG 2 deciding and APCA Lc for information.
    assert lines[line_of("theme.colors.info") + 1] == (
        "    lowest contrast 4.88:1 (passes WCAG AA 4.5:1): info #0068b0 text on its tonal "
        "background #e0edf6 (info at 12% over background #ffffff); APCA Lc 66.6, for information"
    )


def test_explain_one_key_json_and_errors(family: Path, run_pops: Run) -> None:
    done = run_pops("explain", "beta", "notifications", "--format", "json", cwd=family)
    assert done.returncode == 0
    payload = json.loads(done.stdout)
    assert payload["settings"] == [
        {
            "key": "notifications.email_from",
            "label": "Notifications › Email From",
            "value": "no-reply@office.example.com",
            "source": {
                "file": "groups/_defaults.yaml",
                "line": 8,
                "column": 15,
                "value": "no-reply@office.example.com",
            },
            "overrides": [],
            "note": "",
        }
    ]
    info = run_pops("explain", "beta", "theme.colors.info", "--format", "json", cwd=family)
    assert json.loads(info.stdout)["settings"][0]["contrast"] == {
        "foreground": "#0068b0",
        "backdrop": "#e0edf6",
        "wcag2": 4.88,
        "minimum": 4.5,
        "where": 'VAlert, VBtn variant="tonal", VChip (tonal by default), on the page',
        "apcaLc": 66.6,
    }
    missing = run_pops("explain", "beta", "notifcations", cwd=family)
    assert missing.returncode == 2 and "did you mean `notifications`?" in missing.stderr
    assert run_pops("explain", "nobody", cwd=family).returncode == 2


# --- validating a layer file directly ----------------------------------------------------


def _text(run_pops: Run, repo: Path, *args: str) -> tuple[int, list[str], str]:
    done = run_pops("validate", *args, cwd=repo)
    assert "Traceback" not in done.stderr + done.stdout
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_validate_defaults_directly_checks_it_as_a_layer(family: Path, run_pops: Run) -> None:
    _write(
        family / "groups/_defaults.yaml",
        "payments:\n  credit_card: true\n  email_receipt: true\ntheme:\n  dark: yes\n  colr: 1\n",
    )
    # Not what was asked about: a broken base no group uses, and a broken overlay.
    _write(family / "groups/_unused.yaml", "theme:\n  dark: no\n")
    _write(family / "environments/staging.yaml", "overlays:\n  - groups: all\n    valeus: {}\n")
    code, lines, _ = _text(run_pops, family, "groups/_defaults.yaml")
    assert code == 1
    assert lines == [
        "groups/_defaults.yaml:3:18: error: payments.email_receipt: email receipts need a "
        "sender; add notifications.email_from, e.g. no-reply@example.com "
        "(breaks 2 groups: alpha, beta) [email-from-missing]",
        "groups/_defaults.yaml:5:9: error: theme.dark: `yes` is not a boolean in group files "
        "(YAML 1.1 read it as one, YAML 1.2 does not); write true or false [type-bool]",
        "groups/_defaults.yaml:6:3: error: theme.colr: unknown key `colr` under `theme`; "
        "did you mean `colors`? [key-unknown]",
        "3 errors, 0 warnings",
    ]
    # Fixed, the layer and every group under it are clean.
    _write(family / "groups/_defaults.yaml", "payments:\n  credit_card: true\n")
    code, lines, _ = _text(run_pops, family, "groups/_defaults.yaml")
    assert (code, lines) == (0, ["no problems found"])


def test_validate_base_directly_reports_the_groups_extending_it(
    family: Path, run_pops: Run
) -> None:
    # alpha extends _chain, which extends _brand; beta extends nothing.
    _write(
        family / "groups/_brand.yaml",
        "branding:\n  logo_ur: https://cdn.example.com/l.png\n"
        'theme:\n  colors:\n    primary: "#ffeb3b"\n',
    )
    _write(family / "groups/_chain.yaml", "extends: brand\n")
    write_group(family, "beta", "name: Solo Beta\npayments:\n  require_cvv: maybe\n")
    code, found = _diagnostics(run_pops, family, "groups/_brand.yaml")
    assert code == 1
    assert [(d["file"], d["line"], d["column"], d["code"], d["message"]) for d in found] == [
        (
            "groups/_brand.yaml",
            2,
            3,
            "key-unknown",
            "unknown key `logo_ur` under `branding`; did you mean `logo_url`?",
        ),
        (
            "groups/_brand.yaml",
            5,
            14,
            "contrast-low",
            "primary #ffeb3b text on background #ffffff has contrast 1.22:1, under the 4.5:1 "
            'WCAG AA asks for text; patients see it in VBtn, VAlert, VChip variant="text", '
            '"outlined" or "plain"; `text-primary` links, on the page (buttons and links); 5 '
            'other pairs fail too; the nearest primary of the same hue that passes is "#776c00" '
            "(breaks 1 group: alpha)",
        ),
    ]
    # beta's own problem is not the base's: naming beta as well finds it too.
    code, found = _diagnostics(run_pops, family, "groups/_brand.yaml", "groups/beta.yaml")
    assert code == 1
    assert [(d["file"], d["code"]) for d in found] == [
        ("groups/_brand.yaml", "key-unknown"),
        ("groups/_brand.yaml", "contrast-low"),
        ("groups/beta.yaml", "type-bool"),
    ]


def test_validate_overlay_directly_checks_its_environment(family: Path, run_pops: Run) -> None:
    _write(
        family / "environments/staging.yaml",
        "overlays:\n"
        "  - groups: [alpha]\n"
        "    valeus: {}\n"
        "    values:\n"
        "      theme:\n"
        "        colors:\n"
        '          primary: "#ffeb3b"\n'
        "      payment: {}\n",
    )
    _write(family / "groups/_unused.yaml", "theme:\n  dark: no\n")
    code, found = _diagnostics(run_pops, family, "environments/staging.yaml")
    assert code == 1
    assert [(d["file"], d["line"], d["column"], d["code"]) for d in found] == [
        ("environments/staging.yaml", 3, 5, "key-unknown"),
        ("environments/staging.yaml", 7, 20, "contrast-low"),  # once for the colour
        ("environments/staging.yaml", 8, 7, "key-unknown"),
    ]
    assert found[1]["message"].startswith("primary #ffeb3b text on background #ffffff")
    assert found[1]["message"].endswith("(breaks 1 group: alpha)")
    assert found[2]["message"] == "unknown key `payment` at the top level; did you mean `payments`?"
    # Validating _defaults.yaml covers every group in every environment: alpha's breakage
    # under staging is still shown, the overlay's own unknown keys are not.
    code, found = _diagnostics(run_pops, family, "groups/_defaults.yaml")
    assert code == 1
    assert [(d["file"], d["line"], d["code"]) for d in found] == [
        ("environments/staging.yaml", 7, "contrast-low"),
    ]


def test_validate_layer_paths_usage_errors(family: Path, run_pops: Run) -> None:
    _write(family / "environments/prod.yaml", "overlays: []\n")
    _write(family / "elsewhere/_brand.yaml", "theme: {}\n")
    for args, message in [
        (
            ("environments/staging.yaml", "environments/prod.yaml"),
            "one environment at a time: validate environments/prod.yaml and "
            "environments/staging.yaml in separate runs",
        ),
        (
            ("--env", "prod", "environments/staging.yaml"),
            "one environment at a time",
        ),
        (
            ("elsewhere/_brand.yaml",),
            "elsewhere/_brand.yaml looks like a shared layer (its name starts with `_`) but is "
            "not in the groups folder groups/; pass --groups elsewhere",
        ),
    ]:
        code, _, err = _text(run_pops, family, *args)
        assert code == 2 and message in err, err


def test_validate_a_base_no_group_uses(family: Path, run_pops: Run) -> None:
    _write(family / "groups/_unused.yaml", "theme:\n  dark: no\n")
    code, lines, err = _text(run_pops, family, "groups/_unused.yaml")
    assert code == 1
    assert lines == [
        "groups/_unused.yaml:2:9: error: theme.dark: `no` is not a boolean in group files "
        "(YAML 1.1 read it as one, YAML 1.2 does not); write true or false [type-bool]",
        "1 error, 0 warnings",
    ]
    assert err == "no group uses groups/_unused.yaml; only the file itself was checked\n"
