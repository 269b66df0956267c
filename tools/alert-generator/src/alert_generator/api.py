"""The generator's HTTP API: read and change the rate and the mix while it runs, start, stop."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from alert_generator.mix import Mix
from alert_generator.runner import Generator

MAX_RATE = 5000.0


class GeneratorRead(BaseModel):
    running: bool
    events_per_second: float
    mix: Mix
    services_with_keys: list[str]
    sent: dict[str, int] = Field(description='"<action> <HTTP status>" (or "<action> error") -> count')
    open_problems: int


class GeneratorChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events_per_second: float | None = Field(default=None, ge=0, le=MAX_RATE)
    mix: Mix | None = None


def _read(generator: Generator) -> GeneratorRead:
    return GeneratorRead(
        running=generator.running,
        events_per_second=generator.events_per_second,
        mix=generator.mix,
        services_with_keys=sorted(generator.keys),
        sent=dict(generator.sent),
        open_problems=len(generator.planner.open),
    )


def create_app(generator: Generator, *, start: bool = True) -> FastAPI:
    """The API around one generator; `start` sends from the moment the app starts."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start:
            generator.start()
        try:
            yield
        finally:
            await generator.aclose()

    app = FastAPI(title="Alert generator", description=__doc__, lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": "alert-generator"}

    @app.get("/generator", summary="Rate, mix, counts of what was sent")
    async def read() -> GeneratorRead:
        return _read(generator)

    @app.patch("/generator", summary="Change the rate and/or the mix; takes effect at once")
    async def change(body: GeneratorChange) -> GeneratorRead:
        if body.mix is not None:
            unknown = sorted(set(body.mix.services) - set(generator.keys))
            if unknown:
                known = ", ".join(sorted(generator.keys))
                raise HTTPException(422, f"no integration key for: {', '.join(unknown)} (known: {known})")
            generator.set_mix(body.mix)
        if body.events_per_second is not None:
            generator.events_per_second = body.events_per_second
        return _read(generator)

    @app.post("/generator/start", summary="Start sending")
    async def start_sending() -> GeneratorRead:
        generator.start()
        return _read(generator)

    @app.post("/generator/stop", summary="Stop sending (sends under way finish)")
    async def stop_sending() -> GeneratorRead:
        await generator.stop()
        return _read(generator)

    return app
