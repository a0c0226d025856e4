"""``GET /swagger.json`` of a web service: an OpenAPI 2 document, shaped as Azure ML v1's servers shape it.

The input and output schemas come from inference-schema's decorators on ``run()`` when there are
some; without them the body is a generic object (entry-script mode) or MLflow's request shapes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MLFLOW_INPUT_SCHEMA", "swagger_document"]

_GENERIC: dict[str, Any] = {"type": "object"}

MLFLOW_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Exactly one of the keys (MLflow's scoring protocol).",
    "properties": {
        "dataframe_split": {
            "type": "object",
            "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "data": {"type": "array", "items": {"type": "array", "items": {}}},
                "index": {"type": "array", "items": {}},
            },
        },
        "dataframe_records": {"type": "array", "items": {"type": "object"}},
        "instances": {"type": "array", "items": {}},
        "inputs": {},
        "params": {"type": "object"},
    },
    "example": {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0]]}},
}
MLFLOW_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"predictions": {"type": "array", "items": {}}},
}


def swagger_document(
    service: str,
    *,
    auth: bool,
    input_schema: dict[str, Any] | None = None,
    output_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 2 document of a service: ``GET /`` (health) and ``POST /score``."""
    error = {
        "description": "The service failed to execute due to an error.",
        "schema": {"$ref": "#/definitions/ErrorResponse"},
    }
    score: dict[str, Any] = {
        "operationId": "RunMLService",
        "description": "Run web service's model and get the prediction output",
        "parameters": [
            {
                "name": "serviceInputPayload",
                "in": "body",
                "description": "The input payload for executing the real-time machine learning service.",
                "schema": {"$ref": "#/definitions/ServiceInput"},
            }
        ],
        "responses": {
            "200": {
                "description": "The service processed the input correctly and provided a result prediction, "
                "if applicable.",
                "schema": {"$ref": "#/definitions/ServiceOutput"},
            },
            "default": error,
        },
    }
    document: dict[str, Any] = {
        "swagger": "2.0",
        "info": {
            "title": service,
            "description": f"API specification for the Azure Machine Learning service {service}",
            "version": "1.0",
        },
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/": {
                "get": {
                    "operationId": "ServiceHealthCheck",
                    "description": "Simple health check endpoint to ensure the service is up at any given point.",
                    "responses": {
                        "200": {
                            "description": "If service is up and running, this response will be returned with "
                            "the content 'Healthy'",
                            "schema": {"type": "string"},
                            "examples": {"application/json": "Healthy"},
                        },
                        "default": error,
                    },
                }
            },
            "/score": {"post": score},
        },
        "definitions": {
            "ServiceInput": input_schema or _GENERIC,
            "ServiceOutput": output_schema or _GENERIC,
            "ErrorResponse": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"message": {"type": "string"}, "correlation_id": {"type": "string"}},
                    }
                },
            },
        },
    }
    if auth:
        document["securityDefinitions"] = {
            "Bearer": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "For example: Bearer abc123",
            }
        }
        score["security"] = [{"Bearer": []}]
    return document
