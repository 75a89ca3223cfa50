"""PAGERDUTY_API_TOKEN_FILE: the token from a mounted Secret, re-read when the file changes and
after a 401, so a rotated token is used without a restart; the token is never shown."""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path

import pytest

from oncall_operator.pagerduty import PagerDutyClient, TokenSource, Unauthorized
from oncall_operator.settings import PagerDutySettings, SettingsError
from oncall_testbed.emulator import EmulatorServer


class SecretVolume:
    """A directory laid out as the kubelet lays out a Secret volume: `token` is a symlink to
    `..data/token`, `..data` a symlink to a timestamped directory; an update writes a new
    directory and swaps `..data` atomically (rename of a new symlink over it)."""

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.generation = 0
        self.write(token)
        (root / "token").symlink_to("..data/token")

    @property
    def path(self) -> Path:
        return self.root / "token"

    def write(self, token: str) -> None:
        self.generation += 1
        version = self.root / f"..2026_12_02_00_00_{self.generation:02d}"
        version.mkdir()
        (version / "token").write_text(token + "\n")
        staged = self.root / "..data_tmp"
        staged.symlink_to(version.name)
        os.replace(staged, self.root / "..data")


def client_of(emulator: EmulatorServer, token_file: Path) -> PagerDutyClient:
    return PagerDutyClient.from_env(
        {
            "PAGERDUTY_API_TOKEN_FILE": str(token_file),
            "PAGERDUTY_API_URL": emulator.base_url,
            "PAGERDUTY_CA_FILE": str(emulator.ca_file),
        }
    )


def statuses(emulator: EmulatorServer) -> list[int]:
    """Statuses of this test's requests (its queries start with `tf-`), in order: the session's
    emulator may still log a request another test's thread made after the reset."""
    return [entry["status"] for entry in emulator.requests() if "query=tf-" in entry["path"]]


def test_the_token_is_read_from_the_file(emulator: EmulatorServer, tmp_path: Path) -> None:
    volume = SecretVolume(tmp_path, emulator.token)
    client = client_of(emulator, volume.path)

    assert client.find_teams("tf-nothing") == []
    assert statuses(emulator) == [200]


def test_a_rotated_secret_is_used_on_the_next_request_without_a_401(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    volume = SecretVolume(tmp_path, emulator.token)
    client = client_of(emulator, volume.path)
    client.find_teams("tf-before")

    emulator.set_token("rotated-token-1")
    volume.write("rotated-token-1")
    client.find_teams("tf-after")

    assert statuses(emulator) == [200, 200]


def test_after_a_401_the_file_is_read_again_even_if_it_looks_unchanged(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    # Rewritten in place with the same size and mtime: only the 401 can tell the token changed.
    token_file = tmp_path / "token"
    token_file.write_text("old-token-aaaa")
    emulator.set_token("old-token-aaaa")
    client = client_of(emulator, token_file)
    client.find_teams("tf-before")
    stat = token_file.stat()

    emulator.set_token("new-token-bbbb")
    with token_file.open("r+") as rewrite:
        rewrite.write("new-token-bbbb")
    os.utime(token_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    client.find_teams("tf-after")

    assert statuses(emulator) == [200, 401, 200]


def test_a_refused_token_with_no_new_one_in_the_file_is_unauthorized_after_one_request(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    volume = SecretVolume(tmp_path, emulator.token)
    client = client_of(emulator, volume.path)

    emulator.set_token("revoked-the-old-one")
    with pytest.raises(Unauthorized):
        client.find_teams("tf-x")
    volume.write("revoked-the-old-one")  # the Secret catches up: no restart needed

    assert client.find_teams("tf-x") == []
    assert statuses(emulator) == [401, 200]


def test_a_missing_or_empty_file_during_an_update_keeps_the_last_token(
    emulator: EmulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(emulator.token)
    client = client_of(emulator, token_file)

    token_file.unlink()
    client.find_teams("tf-while-missing")
    token_file.write_text("   \n")
    client.find_teams("tf-while-empty")

    assert statuses(emulator) == [200, 200]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all(str(token_file) in w for w in warnings)
    assert emulator.token not in caplog.text


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"PAGERDUTY_API_TOKEN": "t0k3n-shh", "PAGERDUTY_API_TOKEN_FILE": "/x"},
            "PAGERDUTY_API_TOKEN and PAGERDUTY_API_TOKEN_FILE are both set",
        ),
        ({"PAGERDUTY_API_TOKEN_FILE": "/nonexistent/token"}, "'/nonexistent/token' cannot be read"),
    ],
)
def test_settings_errors_name_the_variables_never_the_token(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        PagerDutyClient.from_env(environ)
    assert "t0k3n-shh" not in str(caught.value)


def test_an_empty_file_at_start_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")

    with pytest.raises(ValueError, match="is empty"):
        TokenSource.from_file(tmp_path / "token")


def test_settings_give_the_file_or_the_token(tmp_path: Path) -> None:
    as_file = PagerDutySettings.from_env({"PAGERDUTY_API_TOKEN_FILE": str(tmp_path / "t")})
    as_value = PagerDutySettings.from_env({"PAGERDUTY_API_TOKEN": " abc "})

    assert as_file.token() == tmp_path / "t"
    assert as_value.token() == "abc"
    with pytest.raises(SettingsError, match="PAGERDUTY_API_TOKEN is not set"):
        PagerDutySettings.from_env({}).token()


def test_the_file_token_is_never_shown(
    emulator: EmulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "file-secret-0123456789abcdef"
    volume = SecretVolume(tmp_path, secret)
    emulator.set_token(secret)
    client = client_of(emulator, volume.path)
    client.find_teams("tf-x")
    volume.write("next-file-secret-fedcba9876543210")
    with pytest.raises(Unauthorized) as caught:
        client.find_teams("tf-x")

    shown = [
        repr(client),
        repr(client._tokens),
        str(caught.value),
        "".join(traceback.format_exception(caught.value)),
        caplog.text,
    ]
    for text in shown:
        for token in (secret, "next-file-secret-fedcba9876543210"):
            assert token not in text and token[-4:] not in text
