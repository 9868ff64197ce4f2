"""One migrated test database per run, cloned for each xdist worker (decision 0018).

Without it every xdist worker migrates its own test database from zero (about 20 s of CPU each).
With PostgreSQL and `-n N`, the xdist controller migrates ONE database, `test_<NAME>_template`, in a
thread started in `pytest_configure`, while the workers start and collect; each worker then creates
its own `test_<NAME>_gwN` as `CREATE DATABASE ... TEMPLATE test_<NAME>_template` (a file copy inside
PostgreSQL, well under a second). The template is migrated by the same `migrate` command Django's
`create_test_db` runs, so every migration, including the PostgreSQL guards, still runs from zero in
every run. The worker's database is its own from then on (the tests never touch the template), and
the controller drops the template at the end of the run.

Not used on SQLite, without xdist (`-n 0`), with `--reuse-db` or `--nomigrations`, or with
OTC_TEST_DB_TEMPLATE=0 in the environment: there each test database is created as pytest-django
creates it.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import traceback
from pathlib import Path

WAIT_SECONDS = 900  # the template's migrate; longer means something is wrong
_INPUT_KEY = "otc_db_template"


class _Builder:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="otc-db-template-"))
        self.name = ""
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        from django.db import connection

        self.name = f"{connection.creation._get_test_db_name()}_template"
        self.thread = threading.Thread(target=self._build, name="otc-db-template", daemon=True)
        self.thread.start()

    def _build(self) -> None:
        from django.core.management import call_command
        from django.db import connection  # this thread's own connection

        building = f"{self.name}_building"
        try:
            creation = connection.creation
            with creation._nodb_cursor() as cursor:
                for name in (self.name, building):
                    cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
                cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(building)}")
            connection.close()
            connection.settings_dict["NAME"] = building
            call_command("migrate", verbosity=0, interactive=False, database=connection.alias, run_syncdb=True)
            call_command("createcachetable", database=connection.alias)
            connection.close()
            with creation._nodb_cursor() as cursor:
                # The clones are taken from the finished database only: a worker that finds the template
                # name finds a migrated database.
                cursor.execute(f"ALTER DATABASE {connection.ops.quote_name(building)} "
                               f"RENAME TO {connection.ops.quote_name(self.name)}")
            (self.dir / "ready").write_text(self.name)
        except BaseException:
            (self.dir / "failed").write_text(traceback.format_exc())
            raise

    def finish(self, config) -> None:
        if self.thread is not None:
            self.thread.join(timeout=WAIT_SECONDS)
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        try:
            with config.stash[blocking_manager_key].unblock(), connection.creation._nodb_cursor() as cursor:
                for name in (self.name, f"{self.name}_building"):
                    cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
        finally:
            for path in self.dir.iterdir():
                path.unlink()
            self.dir.rmdir()


_builder: _Builder | None = None


def wanted(config) -> bool:
    """In the xdist controller of a PostgreSQL run with workers and fresh test databases."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return False
    if os.environ.get("OTC_TEST_DB_TEMPLATE", "1") == "0":
        return False
    if getattr(config.option, "reuse_db", False) or getattr(config.option, "nomigrations", False):
        return False
    from django.db import connection

    return connection.vendor == "postgresql"


def start(config) -> None:
    global _builder
    if wanted(config):
        from pytest_django.plugin import blocking_manager_key

        # The controller runs no test: its database access (this template) is not blocked.
        config.stash[blocking_manager_key].unblock()
        _builder = _Builder()
        _builder.start()


def configure_node(node) -> None:
    if _builder is not None:
        node.workerinput[_INPUT_KEY] = str(_builder.dir)


def finish(config) -> None:
    global _builder
    if _builder is not None:
        builder, _builder = _builder, None
        builder.finish(config)


def use_in_worker(config) -> None:
    """In an xdist worker given a template: its test database is cloned from it instead of migrated."""
    folder = getattr(config, "workerinput", {}).get(_INPUT_KEY)
    if not folder:
        return
    from django.db.backends.postgresql.creation import DatabaseCreation

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        from django.conf import settings
        from django.core.management import call_command

        template = _wait(Path(folder))
        target = self._get_test_db_name()
        quote = self.connection.ops.quote_name
        with self._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
            for attempt in range(20):
                try:
                    cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(template)}")
                    break
                except Exception as error:  # the other worker's clone holds the template a moment
                    if "is being accessed by other users" not in str(error) or attempt == 19:
                        raise
                    time.sleep(0.25)
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = target
        self.connection.settings_dict["NAME"] = target
        if serialize:
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        call_command("createcachetable", database=self.connection.alias)
        self.connection.ensure_connection()
        return target

    DatabaseCreation.create_test_db = create_test_db


def _wait(folder: Path) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if (folder / "failed").exists():
            raise RuntimeError("migrating the template test database failed:\n" + (folder / "failed").read_text())
        if (folder / "ready").exists():
            return (folder / "ready").read_text()
        time.sleep(0.1)
    raise RuntimeError(f"the template test database was not ready after {WAIT_SECONDS} s")


__all__ = ["configure_node", "finish", "start", "use_in_worker", "wanted"]
