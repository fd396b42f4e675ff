"""fastapi-pagination over SQLAlchemy: the same records under its three page types.

    GET /page         Page, size 10, ordered by score then id (?page=N&size=)
    GET /limitoffset  LimitOffsetPage, limit 25, ordered by score then id (?limit=&offset=)
    GET /cursor       CursorPage, size 10, keyset on (score, id) through sqlakeyset (?cursor=)

SQLite in a temporary directory, served by uvicorn on a socket bound beforehand.

    python fastapi_app.py --records N
"""

import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Query
from fastapi_pagination import LimitOffsetPage, Page, add_pagination
from fastapi_pagination.cursor import CursorPage
from fastapi_pagination.customization import CustomizedPage, UseParamsFields
from fastapi_pagination.ext.sqlalchemy import paginate
from pydantic import BaseModel, ConfigDict
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import common

N = common.records_arg()
DB_DIR = tempfile.TemporaryDirectory()
engine = create_engine(f"sqlite:///{Path(DB_DIR.name) / 'fastapi.sqlite3'}")


class Base(DeclarativeBase):
    pass


class Record(Base):
    __tablename__ = "records"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    score: Mapped[int]
    weight: Mapped[float | None]


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    score: int
    weight: float | None


# Smaller defaults than the library's 50, with its bounds kept (more than 100 is a 422).
SmallPage = CustomizedPage[Page[RecordOut], UseParamsFields(size=Query(10, ge=1, le=100))]
SmallLimitOffsetPage = CustomizedPage[LimitOffsetPage[RecordOut], UseParamsFields(limit=Query(25, ge=1, le=100))]
SmallCursorPage = CustomizedPage[CursorPage[RecordOut], UseParamsFields(size=Query(10, ge=0, le=100))]

ORDERED = select(Record).order_by(Record.score, Record.id)
app = FastAPI()


@app.get("/page")
def page() -> SmallPage:
    with Session(engine) as session:
        return paginate(session, ORDERED)


@app.get("/limitoffset")
def limit_offset() -> SmallLimitOffsetPage:
    with Session(engine) as session:
        return paginate(session, ORDERED)


@app.get("/cursor")
def cursor() -> SmallCursorPage:
    with Session(engine) as session:
        return paginate(session, ORDERED)


add_pagination(app)

if __name__ == "__main__":
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(Record), [dict(id=i, name=n, score=s, weight=w) for i, n, s, w in common.rows(N)])
    sock = common.listen()
    common.announce(sock.getsockname()[1])
    common.exit_on_sigterm()
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
