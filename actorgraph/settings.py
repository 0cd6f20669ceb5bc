"""The one settings object, read at the edges (CLI, API start-up) and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from actorgraph.graph.store import ClientTimeouts, StoreConfig


class Settings(BaseSettings):
    """Environment (``ACTORGRAPH_*``, ``NEO4J_*``) and ``.env`` settings."""

    model_config = SettingsConfigDict(env_prefix="ACTORGRAPH_", env_file=".env", extra="ignore")

    home: Path = Field(
        default=Path(".actorgraph"),
        description="data directory of the embedded store, models, keys",
    )
    graph: str = Field(default="actorgraph", description="graph name")
    cache: Path | None = Field(
        default=None,
        description="derived data built once per package data version and shared by every "
        "home (the warninglists index); default: $XDG_CACHE_HOME/actorgraph or "
        "~/.cache/actorgraph",
    )
    env: Literal["development", "production"] = "development"

    neo4j_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_URI", "ACTORGRAPH_NEO4J_URI")
    )
    neo4j_user: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "ACTORGRAPH_NEO4J_USER")
    )
    neo4j_password: str = Field(
        default="", validation_alias=AliasChoices("NEO4J_PASSWORD", "ACTORGRAPH_NEO4J_PASSWORD")
    )
    neo4j_database: str = Field(
        default="neo4j",
        validation_alias=AliasChoices("NEO4J_DATABASE", "ACTORGRAPH_NEO4J_DATABASE"),
    )

    cypher_timeout_ms: int = Field(default=5000, ge=1, le=600_000)
    # How long a client waits for the embedded store's reply before it reports the server stuck
    # (ClientTimeouts): to one query, and to one GRAPH.BULK command of a bulk load.
    store_reply_timeout_s: float = Field(default=ClientTimeouts.reply_s, gt=0)
    store_bulk_timeout_s: float = Field(default=ClientTimeouts.bulk_s, gt=0)
    cypher_row_cap: int = Field(default=10_000, ge=1, le=1_000_000)

    api_max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    api_rate_limit_per_minute: int = Field(default=6000, ge=1)
    api_cors_origins: list[str] = Field(default_factory=list)
    # Set by `actorgraph serve --workers N` for its workers: where they share metrics.
    api_metrics_dir: Path | None = None
    # How often (at most) the API looks for a newer model version to swap in; 0: never.
    api_model_check_s: float = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.env == "production":
            if self.neo4j_uri and self.neo4j_password in ("", "neo4j", "password"):
                raise ValueError("NEO4J_PASSWORD must be set to a non-default value in production")
            if "*" in self.api_cors_origins:
                raise ValueError("ACTORGRAPH_API_CORS_ORIGINS='*' is refused in production")
        return self

    def cache_dir(self) -> Path:
        """Where derived package data is cached (``cache``, or the user's cache folder)."""
        if self.cache is not None:
            return self.cache
        xdg = os.environ.get("XDG_CACHE_HOME")
        return (Path(xdg) if xdg else Path.home() / ".cache") / "actorgraph"

    def store_config(self) -> StoreConfig:
        return StoreConfig(
            home=self.home,
            graph=self.graph,
            neo4j_uri=self.neo4j_uri,
            neo4j_user=self.neo4j_user,
            neo4j_password=self.neo4j_password,
            neo4j_database=self.neo4j_database,
            timeouts=ClientTimeouts(
                reply_s=self.store_reply_timeout_s, bulk_s=self.store_bulk_timeout_s
            ),
        )

    @property
    def models_dir(self) -> Path:
        return self.home / "models"
