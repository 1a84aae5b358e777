"""The yardstick of the API benchmark: FastAPI on uvicorn answering a constant, nothing else."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/constant")
async def constant() -> dict[str, str]:
    return {"status": "queued"}
