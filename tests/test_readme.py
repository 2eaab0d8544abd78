"""The README's commands work when an engineer pastes them.

A block the README marks with ``<!-- tests/test_readme.py runs this block ... -->`` is taken from
the README itself (the commands live in one place) and run by a shell, as written, in the project
folder, against a server started the way ``make run`` starts it (tests/devserver.py): migrate,
seed_demo, runserver, with the ``.env`` file ``make run`` writes and nothing exported. Only the
server's address is replaced, since the test's server listens on a spare port.
"""

import json
import re
import subprocess

import pytest

from tests.devserver import ROOT, DevServer, session_database_url

MARKER = "<!-- tests/test_readme.py runs this block"
README_ADDRESS = "127.0.0.1:8000"


def readme_blocks() -> list[str]:
    """The shell blocks the README marks as run by this test, in order."""
    text = (ROOT / "README.md").read_text()
    pattern = re.escape(MARKER) + r"[^\n]*-->\n```sh\n(.*?)\n```"
    return re.findall(pattern, text, flags=re.DOTALL)


@pytest.fixture
def demo_server(transactional_db, tmp_path):
    server = DevServer(tmp_path, database_url=session_database_url(tmp_path))
    server.prepare()
    server.start()
    yield server
    server.stop()


def test_the_readme_marks_the_api_block():
    blocks = readme_blocks()

    assert len(blocks) == 1
    assert "manage.py issue_token" in blocks[0]
    assert blocks[0].count(README_ADDRESS) == 1


def test_api_block_pasted_after_make_run_prints_ranked_priorities(demo_server):
    """The token command needs no SECRET_KEY exported, and the curl names a demo product; the
    block runs in bash and in a plain POSIX sh (dash) alike."""
    (block,) = readme_blocks()
    commands = block.replace(README_ADDRESS, f"127.0.0.1:{demo_server.port}")

    outputs = {}
    for shell in ("bash", "sh"):
        result = subprocess.run(
            [shell, "-e", "-c", commands],
            cwd=ROOT,
            env=demo_server.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{shell}: {result.stderr}"
        outputs[shell] = json.loads(result.stdout)

    assert outputs["bash"] == outputs["sh"]
    priorities = outputs["bash"]
    assert (priorities["product"], priorities["framework"], priorities["count"]) == (
        "northwind-insight",
        "rice",
        5,
    )
    ranked = priorities["results"]
    assert [feature["rank"] for feature in ranked] == [1, 2, 3, 4, 5]
    scores = [feature["score"] for feature in ranked]
    assert all(score is not None for score in scores)
    assert scores == sorted(scores, reverse=True)
    assert all(feature["score_breakdown"]["framework"] == "rice" for feature in ranked)
