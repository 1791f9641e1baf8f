"""Django file storage in PostgreSQL: the finished report PDFs where every host can read them.

With ``KAGAMI_FILE_STORAGE=database`` (backend/settings.py) the default storage is this one, so a
``FileField`` (the report job's ``file``) saves its bytes into :class:`reports.models.StoredFile` and opens
them from there. A Celery worker on one host renders and saves; the web process on another host serves the
download; nothing but the database is shared. The default stays the local file system under MEDIA_ROOT,
which needs MEDIA_ROOT shared between hosts instead (README → Past one machine).

Files are read whole into memory: report PDFs are a few hundred kilobytes.
"""

from __future__ import annotations

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible


@deconstructible(path="reports.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    """Files as rows of :class:`reports.models.StoredFile`, one per name."""

    def _open(self, name: str, mode: str = "rb") -> File:
        from reports.models import StoredFile

        if any(c in mode for c in "wa+"):
            raise ValueError("DatabaseStorage opens files for reading; save() writes them")
        content = StoredFile.objects.filter(name=name).values_list("content", flat=True).first()
        if content is None:
            raise FileNotFoundError(name)
        return ContentFile(bytes(content), name=name)

    def _save(self, name: str, content: File) -> str:
        from reports.models import StoredFile

        if hasattr(content, "seek"):
            content.seek(0)
        data = b"".join(content.chunks())
        StoredFile.objects.create(name=name, content=data, size=len(data))
        return name

    def exists(self, name: str) -> bool:
        from reports.models import StoredFile

        return StoredFile.objects.filter(name=name).exists()

    def delete(self, name: str) -> None:
        from reports.models import StoredFile

        StoredFile.objects.filter(name=name).delete()

    def size(self, name: str) -> int:
        from reports.models import StoredFile

        size = StoredFile.objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(name)
        return size

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        from reports.models import StoredFile

        prefix = path.rstrip("/") + "/" if path else ""
        dirs, files = set(), []
        for name in StoredFile.objects.filter(name__startswith=prefix).values_list("name", flat=True):
            head, sep, _tail = name[len(prefix):].partition("/")
            (dirs.add(head) if sep else files.append(head))
        return sorted(dirs), sorted(files)

    def url(self, name: str) -> str:
        raise NotImplementedError("files in the database are served by the download views, not by URL")
