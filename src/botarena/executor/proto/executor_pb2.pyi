from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentSpec(_message.Message):
    __slots__ = ("name", "submission_id", "code_dir", "env_dir", "command", "image", "image_digest")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_DIR_FIELD_NUMBER: _ClassVar[int]
    ENV_DIR_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    name: str
    submission_id: str
    code_dir: str
    env_dir: str
    command: _containers.RepeatedScalarFieldContainer[str]
    image: str
    image_digest: str
    def __init__(self, name: _Optional[str] = ..., submission_id: _Optional[str] = ..., code_dir: _Optional[str] = ..., env_dir: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., image: _Optional[str] = ..., image_digest: _Optional[str] = ...) -> None: ...

class MatchSpec(_message.Message):
    __slots__ = ("match_id", "game", "configuration_json", "seed", "agents")
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_JSON_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    match_id: str
    game: str
    configuration_json: str
    seed: int
    agents: _containers.RepeatedCompositeFieldContainer[AgentSpec]
    def __init__(self, match_id: _Optional[str] = ..., game: _Optional[str] = ..., configuration_json: _Optional[str] = ..., seed: _Optional[int] = ..., agents: _Optional[_Iterable[_Union[AgentSpec, _Mapping]]] = ...) -> None: ...

class MatchEvent(_message.Message):
    __slots__ = ("started", "heartbeat", "finished")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    started: Started
    heartbeat: Heartbeat
    finished: Finished
    def __init__(self, started: _Optional[_Union[Started, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., finished: _Optional[_Union[Finished, _Mapping]] = ...) -> None: ...

class Started(_message.Message):
    __slots__ = ("executor", "isolation")
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    executor: str
    isolation: str
    def __init__(self, executor: _Optional[str] = ..., isolation: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("elapsed_seconds",)
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    elapsed_seconds: float
    def __init__(self, elapsed_seconds: _Optional[float] = ...) -> None: ...

class AgentOutcome(_message.Message):
    __slots__ = ("status", "reason", "log")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    status: str
    reason: str
    log: str
    def __init__(self, status: _Optional[str] = ..., reason: _Optional[str] = ..., log: _Optional[str] = ...) -> None: ...

class Finished(_message.Message):
    __slots__ = ("status", "winner", "scores", "agents", "turns", "duration_ms", "replay_json", "error")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    TURNS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    REPLAY_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    status: str
    winner: int
    scores: _containers.RepeatedScalarFieldContainer[float]
    agents: _containers.RepeatedCompositeFieldContainer[AgentOutcome]
    turns: int
    duration_ms: int
    replay_json: str
    error: str
    def __init__(self, status: _Optional[str] = ..., winner: _Optional[int] = ..., scores: _Optional[_Iterable[float]] = ..., agents: _Optional[_Iterable[_Union[AgentOutcome, _Mapping]]] = ..., turns: _Optional[int] = ..., duration_ms: _Optional[int] = ..., replay_json: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthReply(_message.Message):
    __slots__ = ("serving", "isolation", "running", "capacity")
    SERVING_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    serving: bool
    isolation: str
    running: int
    capacity: int
    def __init__(self, serving: _Optional[bool] = ..., isolation: _Optional[str] = ..., running: _Optional[int] = ..., capacity: _Optional[int] = ...) -> None: ...
