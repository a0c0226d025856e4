"""Docker images of environments no one has used for ``keep_days``.

Only images this project built: tagged ``mlws-env:<key16>`` and labelled ``mlws.environment`` (see
:mod:`..environments.image`). An image's last use is its marker (``<cache>/images/<key16>.used``,
touched on every build and reuse), else its creation time. Judged and removed under the build lock
of its key, as venvs are; an image any container was made from (running or stopped) is kept, and
removal never forces: the engine refuses to remove an image a container still uses. No engine (no
``docker`` library, or no engine answering): images are not considered.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ...core.services.reclaim import Reclaimable
from ...errors import MlwsError
from ..docker_engine import RUN_LABEL, engine
from ..environments.image import IMAGE_REPOSITORY
from ..environments.keys import cache_root
from ..environments.locks import try_build_lock
from ..environments.usage import image_marker, last_used
from .sweep import Sweep, unused_since, when

if TYPE_CHECKING:
    import docker

__all__ = ["DockerImages", "ImageEngine", "ProjectImage", "collect_images", "docker_images"]

ENVIRONMENT_LABEL = "mlws.environment"  # set on the committed image by environments.image._build


@dataclass(frozen=True)
class ProjectImage:
    tag: str  # mlws-env:<key16>
    image_id: str
    size: int
    created: float

    @property
    def key16(self) -> str:
        return self.tag.partition(":")[2]


class ImageEngine(ABC):
    """What gc asks of a Docker engine (a real one: :class:`DockerImages`)."""

    @abstractmethod
    def project_images(self) -> list[ProjectImage]:
        """The environment images this project built."""

    @abstractmethod
    def images_in_use(self) -> set[str]:
        """The ids of the images containers (running or stopped) were made from."""

    @abstractmethod
    def labelled_runs(self) -> set[str]:
        """The run ids on containers (jobs' and builds' containers carry their run's label)."""

    @abstractmethod
    def remove(self, tag: str) -> bool:
        """Remove the image without forcing; False if the engine refused (a container uses it)."""

    def close(self) -> None:  # noqa: B027 - optional: an engine with a connection closes it
        """Done with the engine."""


class DockerImages(ImageEngine):
    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    def project_images(self) -> list[ProjectImage]:
        found = []
        for image in self.client.images.list(name=IMAGE_REPOSITORY, filters={"label": ENVIRONMENT_LABEL}):
            created = _timestamp(str(image.attrs.get("Created", "")))
            for tag in image.tags:
                if tag.startswith(f"{IMAGE_REPOSITORY}:"):
                    found.append(ProjectImage(tag, str(image.id), int(image.attrs.get("Size") or 0), created))
        return found

    def images_in_use(self) -> set[str]:
        return {str(c.attrs.get("Image", "")) for c in self.client.containers.list(all=True)}

    def labelled_runs(self) -> set[str]:
        containers = self.client.containers.list(all=True, filters={"label": RUN_LABEL})
        return {str(c.labels[RUN_LABEL]) for c in containers if RUN_LABEL in c.labels}

    def remove(self, tag: str) -> bool:
        import docker

        try:
            self.client.images.remove(tag, force=False, noprune=False)
        except docker.errors.ImageNotFound:
            return False  # removed meanwhile by someone else: not ours to count
        except docker.errors.APIError:
            return False  # 409: a container uses it
        return True

    def close(self) -> None:
        self.client.close()


def _timestamp(created: str) -> float:
    # The engine gives RFC 3339 with nanoseconds ("2026-01-31T12:00:00.123456789Z").
    try:
        head, _, _fraction = created.rstrip("Z").partition(".")
        return datetime.fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return float("inf")  # an unknown age is never old enough


def docker_images() -> DockerImages | None:
    """The local Docker engine (``DOCKER_HOST`` or the default socket), or None when there is none."""
    with contextlib.suppress(MlwsError):
        return DockerImages(engine({}))
    return None


def collect_images(
    images: ImageEngine | None,
    keep_days: float,
    grace_seconds: float,
    dry_run: bool = False,
    now: float | None = None,
    pinned: Collection[str] = (),
) -> Sweep:
    """Remove (``dry_run``: list) the project's environment images last used before ``keep_days``;
    ``pinned`` tags (web services' images) are kept."""
    sweep = Sweep()
    if images is None:
        return sweep
    cutoff = unused_since(keep_days, grace_seconds, now)
    root = cache_root() / "images"

    def used(image: ProjectImage) -> float:
        marked = last_used(image_marker(image.key16))
        return marked if marked is not None else image.created

    candidates = [image for image in images.project_images() if used(image) <= cutoff]
    in_use = images.images_in_use() if candidates else set()
    for image in sorted(candidates, key=lambda i: i.tag):
        if image.tag in pinned:
            sweep.kept.append(f"image {image.tag}: a web service of this workspace runs on it")
            continue
        if image.image_id in in_use:
            sweep.kept.append(f"image {image.tag}: a container was made from it")
            continue
        with try_build_lock(root, image.key16) as held:
            if not held:
                sweep.kept.append(f"image {image.tag}: being built or taken from the cache right now")
                continue
            last = used(image)  # again, under the lock: a job may have taken it just now
            if last > cutoff:
                continue
            if not dry_run:
                if not images.remove(image.tag):
                    sweep.kept.append(f"image {image.tag}: the Docker engine refused to remove it (in use)")
                    continue
                with contextlib.suppress(OSError):
                    image_marker(image.key16).unlink()
            # Its own size: layers it shares with other images stay (so this is at most what is freed).
            sweep.items.append(Reclaimable("image", image.tag, image.size, f"last used {when(last)}"))
    return sweep
