"""A Docker job's environment: an image, built once per content hash and tagged ``mlws-env:<hash>``.

The environment's (or the target's) base image plus a virtual environment at ``/opt/mlws/venv``
holding the job runtime and the environment's pip packages, made by running pip in a container with
this machine's pip settings (index URLs, CA bundle, constraints: their files are mounted read-only)
and committing it. The running ``jupyter_mlws`` package is not built in: jobs mount it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.activities import ActivityRecorder
from ...core.environment import DEFAULT_BASE_IMAGE, install_requirements
from ...core.interfaces.compute import BuildResult
from ...errors import EnvironmentBuildError, NotFoundError
from ..docker_engine import RUN_LABEL, engine
from .keys import build_key, cache_root, runtime_requirements
from .locks import build_lock
from .pip import host_pip_settings, local_paths
from .steps import failure_summary
from .usage import image_marker, mark_used

if TYPE_CHECKING:
    import docker

__all__ = [
    "AZURE_ML_IMAGE_PREFIXES",
    "IMAGE_REPOSITORY",
    "base_image_choice",
    "base_image_of",
    "build_image",
    "built_image",
]

IMAGE_REPOSITORY = "mlws-env"
# Build steps run by the base image's shell; packages arrive as "$@" (no quoting to get wrong).
_BUILD_SCRIPT = """set -e
. /opt/mlws-build/pip-settings.sh
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 3)' || {
  echo "ERROR: the base image's python3 is older than 3.11 (jobs need 3.11 or newer)"; exit 3; }
echo "--- creating /opt/mlws/venv"
python3 -m venv /opt/mlws/venv
echo "--- installing packages"
/opt/mlws/venv/bin/python -m pip install --no-input --progress-bar off --disable-pip-version-check "$@"
echo "--- checking the environment"
/opt/mlws/venv/bin/python -c 'import sqlalchemy, papermill, ipykernel'
"""


#: Azure ML v1's own base images (``mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04`` ...): conda and a
#: Python older than jobs need, in a registry this machine may not reach. v1 code names them; they stand
#: in as the target's base image, with a note in the build log.
AZURE_ML_IMAGE_PREFIXES = ("mcr.microsoft.com/azureml/", "viennaglobal.azurecr.io/")


def base_image_of(definition: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    """The environment's base image, else the target's."""
    return base_image_choice(definition, config)[0]


def base_image_choice(definition: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[str, str | None]:
    """The base image a build uses and, when an Azure ML image was replaced, a note saying so."""
    target_image = str(config.get("base_image") or DEFAULT_BASE_IMAGE)
    asked = definition.get("docker", {}).get("base_image")
    if not asked:
        return target_image, None
    if str(asked).lower().startswith(AZURE_ML_IMAGE_PREFIXES):
        return target_image, (
            f"{asked} is an Azure ML v1 base image; this target builds on {target_image} instead "
            "(set environment.docker.base_image to another image with python3 >= 3.11 to choose one)"
        )
    return str(asked), None


def build_image(
    name: str, definition: Mapping[str, Any], config: Mapping[str, Any], recorder: ActivityRecorder
) -> BuildResult:
    """The environment's image, built unless the engine has it already."""
    import docker

    started = time.monotonic()
    base, stand_in = base_image_choice(definition, config)
    if stand_in:
        recorder.log(f"note: {stand_in}")
        # It means "the target's image": the same build as an environment that names none.
        definition = {**definition, "docker": {**definition["docker"], "base_image": None}}
    client = engine(config)
    try:
        if definition.get("python", {}).get("user_managed_dependencies"):
            _ensure_image(client, base, recorder)
            return BuildResult("user-managed", base, True, time.monotonic() - started)
        key, tag = _image_tag(definition, base, _ensure_image(client, base, recorder))
        with build_lock(cache_root() / "images", key, recorder):
            try:
                client.images.get(tag)
                recorder.log(f"cache hit: image {tag}")
                mark_used(image_marker(key))  # under the lock: `mlws gc` keeps what was just used
                return BuildResult(key, tag, True, time.monotonic() - started, recorder.activity_id)
            except docker.errors.ImageNotFound:
                pass
            _build(client, name, definition, base, tag, config, recorder)
            mark_used(image_marker(key))
        return BuildResult(key, tag, False, time.monotonic() - started, recorder.activity_id)
    finally:
        client.close()


def _image_tag(definition: Mapping[str, Any], base: str, base_id: str) -> tuple[str, str]:
    """The cache key and tag of the environment's image on ``base`` (whose id is ``base_id``)."""
    key = build_key("docker", definition, base_image=base, base_image_id=base_id)
    return key, f"{IMAGE_REPOSITORY}:{key[:16]}"


def built_image(definition: Mapping[str, Any], config: Mapping[str, Any], client: docker.DockerClient) -> str | None:
    """The id of the environment's image if the engine holds it built, else None (not built yet, a base
    image not pulled yet, or a user-managed environment, whose image is its base image as it is).
    Never builds or pulls, and takes no lock: a tag is set only once its build is complete."""
    import docker

    if definition.get("python", {}).get("user_managed_dependencies"):
        return None
    base, stand_in = base_image_choice(definition, config)
    if stand_in:
        definition = {**definition, "docker": {**definition["docker"], "base_image": None}}
    try:
        _key, tag = _image_tag(definition, base, str(client.images.get(base).id))
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def _ensure_image(client: docker.DockerClient, image: str, recorder: ActivityRecorder) -> str:
    import docker

    try:
        return str(client.images.get(image).id)
    except docker.errors.ImageNotFound:
        pass
    recorder.progress(f"pulling {image}")
    try:
        return str(client.images.pull(image).id)
    except docker.errors.APIError as exc:
        raise NotFoundError(
            f"the base image {image!r} is not on the Docker engine and could not be pulled "
            f"({exc.explanation or exc}); pull or build it, or name another base image"
        ) from None


def _build(
    client: docker.DockerClient,
    name: str,
    definition: Mapping[str, Any],
    base: str,
    tag: str,
    config: Mapping[str, Any],
    recorder: ActivityRecorder,
) -> None:
    import docker

    settings = host_pip_settings()
    # The runtime's names (jupyter-mlws, azureml-defaults) are dropped: jobs mount the running package.
    wanted, notes = install_requirements(dict(definition))
    for note in notes:
        recorder.log(f"note: {note}")
    packages = [*runtime_requirements(), *wanted]
    recorder.progress(f"building image {tag} from {base}: {len(packages)} package(s)")
    recorder.log("pip settings passed through: " + ", ".join(sorted(settings)) if settings else "no pip settings")
    # The settings reach the build through a mounted file, not the container's environment, which
    # the committed image would keep (with this machine's paths and proxies in it).
    scratch = Path(tempfile.mkdtemp(prefix="mlws-build-"))
    container: Any = None
    labels = {"mlws.build": tag}
    if recorder.run_id is not None:
        labels[RUN_LABEL] = recorder.run_id  # so abandon() finds it if the supervisor dies
    try:
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(settings.items()))
        (scratch / "pip-settings.sh").write_text(exports)
        os.chmod(scratch / "pip-settings.sh", 0o600)
        mounts = [docker.types.Mount(p, p, type="bind", read_only=True) for p in local_paths(settings)]
        mounts.append(docker.types.Mount("/opt/mlws-build", str(scratch), type="bind", read_only=True))
        container = client.containers.create(
            base,
            ["/bin/sh", "-c", _BUILD_SCRIPT, "sh", *packages],
            mounts=mounts,
            network_mode=str(config.get("network_mode") or "host"),
            labels=labels,
        )
        remove = recorder.on_cancel(lambda: container.kill())
        container.start()
        for chunk in container.logs(stream=True, follow=True):
            for line in chunk.decode("utf-8", errors="replace").splitlines():
                recorder.log(line)
        code = int(container.wait().get("StatusCode", 1))
        remove()
        if recorder.canceled.is_set():
            raise EnvironmentBuildError("the build was canceled", recorder.log_text, recorder.activity_id)
        if code != 0:
            recorder.flush()
            raise EnvironmentBuildError(
                f"environment {name!r} failed to build on {base}: {failure_summary(recorder.log_text)}",
                recorder.log_text,
                recorder.activity_id,
            )
        recorder.progress(f"committing {tag}")
        image_env = [e for e in (client.images.get(base).attrs.get("Config", {}).get("Env") or []) if "=" in e]
        path = next((e.split("=", 1)[1] for e in image_env if e.startswith("PATH=")), "/usr/local/bin:/usr/bin:/bin")
        keep = [e for e in image_env if not e.startswith("PATH=")]
        repository, _, version = tag.partition(":")
        # The build's pip settings must not stay in the image: its environment is set afresh.
        container.commit(
            repository=repository,
            tag=version,
            conf={
                "Env": [*keep, f"PATH=/opt/mlws/venv/bin:{path}"],
                "Cmd": ["python"],
                "Labels": {"mlws.environment": name},
            },
        )
    except docker.errors.APIError as exc:
        raise EnvironmentBuildError(
            f"environment {name!r} failed to build on {base}: the Docker engine said: {exc.explanation or exc}",
            recorder.log_text,
            recorder.activity_id,
        ) from None
    finally:
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)
        shutil.rmtree(scratch, ignore_errors=True)
