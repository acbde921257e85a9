"""A bare FastAPI application served as ``botarena serve`` serves its own: the floor the API's
figures are compared with (same uvicorn options, same worker count).

    python bench/_hello.py --port 8001 --workers 2
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    # A plain ``def``, as botarena's routes are: it runs on the thread pool too.
    return {"hello": "world"}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # botarena serve: uvicorn.run(app, ...) with one worker, uvicorn's supervisor with more.
    target = "_hello:app" if args.workers > 1 else app
    uvicorn.run(
        target,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
