"""Tracking URIs as users type them map to a working store."""

import os

import pytest

from flightlog.store import get_store, with_installed_driver


def test_plain_scheme_gets_the_installed_driver():
    assert with_installed_driver("postgresql://u@h:5432/db") == "postgresql+psycopg2://u@h:5432/db"
    assert with_installed_driver("postgres://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert with_installed_driver("mysql://root@h/db") == "mysql+pymysql://root@h/db"
    # An explicit driver and non-server schemes are left alone.
    assert with_installed_driver("postgresql+psycopg2://h/db") == "postgresql+psycopg2://h/db"
    assert with_installed_driver("sqlite:///x.db") == "sqlite:///x.db"


def test_plain_postgresql_uri_opens_a_store():
    import sqlalchemy as sa

    base = os.environ.get(
        "FLIGHTLOG_TEST_POSTGRES_URI", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS flightlog_plain_uri")
            conn.exec_driver_sql("CREATE DATABASE flightlog_plain_uri")
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable under CI: {exc}")
        pytest.skip("PostgreSQL unreachable; set FLIGHTLOG_TEST_POSTGRES_URI")
    try:
        url = sa.engine.make_url(base).set(database="flightlog_plain_uri")
        plain = url.render_as_string(hide_password=False).replace("+psycopg2", "")
        assert plain.startswith("postgresql://")
        store = get_store(plain)
        exp_id = store.create_experiment("plain-uri")
        assert store.get_experiment(exp_id).name == "plain-uri"
        store.close()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = 'flightlog_plain_uri' AND pid <> pg_backend_pid()"
            )
            conn.exec_driver_sql("DROP DATABASE IF EXISTS flightlog_plain_uri")
        admin.dispose()
