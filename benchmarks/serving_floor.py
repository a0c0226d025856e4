"""The bare floor of bench_serving.py: a minimal ASGI app that scores one model and nothing else.

Run by the benchmark as ``uvicorn serving_floor:app --loop uvloop --http httptools --no-access-log`` with
``SERVING_MODEL`` naming a pickled scikit-learn model. ``POST /score`` with ``{"data": [[...], ...]}`` answers
``[prediction, ...]``: parse the JSON with orjson, ``model.predict``, return JSON. No validation, no logging, no
middleware: what is left is the cost of HTTP, JSON and the model, the least any server can spend.
"""

import os
import pickle

import numpy as np
import orjson

with open(os.environ["SERVING_MODEL"], "rb") as stream:
    model = pickle.load(stream)

HEADERS = [(b"content-type", b"application/json")]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":  # lifespan and the like: nothing to do
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    rows = np.asarray(orjson.loads(body)["data"], dtype=np.float64)
    answer = orjson.dumps(model.predict(rows).tolist())
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": answer})
