from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_ACK: _ClassVar[Outcome]
    OUTCOME_RETRY: _ClassVar[Outcome]
    OUTCOME_REJECT: _ClassVar[Outcome]

class Ordering(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDERING_UNSPECIFIED: _ClassVar[Ordering]
    ORDERING_PARTITION: _ClassVar[Ordering]
    ORDERING_NONE: _ClassVar[Ordering]

class PauseCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAUSE_CAUSE_UNSPECIFIED: _ClassVar[PauseCause]
    PAUSE_CAUSE_REQUEST: _ClassVar[PauseCause]
    PAUSE_CAUSE_ERROR_THRESHOLD: _ClassVar[PauseCause]
    PAUSE_CAUSE_DEAD_LETTER: _ClassVar[PauseCause]
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_ACK: Outcome
OUTCOME_RETRY: Outcome
OUTCOME_REJECT: Outcome
ORDERING_UNSPECIFIED: Ordering
ORDERING_PARTITION: Ordering
ORDERING_NONE: Ordering
PAUSE_CAUSE_UNSPECIFIED: PauseCause
PAUSE_CAUSE_REQUEST: PauseCause
PAUSE_CAUSE_ERROR_THRESHOLD: PauseCause
PAUSE_CAUSE_DEAD_LETTER: PauseCause

class ConsumeRequest(_message.Message):
    __slots__ = ("subscribe", "settle", "extend")
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    SETTLE_FIELD_NUMBER: _ClassVar[int]
    EXTEND_FIELD_NUMBER: _ClassVar[int]
    subscribe: Subscribe
    settle: Settle
    extend: Extend
    def __init__(self, subscribe: _Optional[_Union[Subscribe, _Mapping]] = ..., settle: _Optional[_Union[Settle, _Mapping]] = ..., extend: _Optional[_Union[Extend, _Mapping]] = ...) -> None: ...

class Subscribe(_message.Message):
    __slots__ = ("handler_name", "max_in_flight_messages", "max_in_flight_bytes", "max_batch_messages", "topics")
    HANDLER_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    handler_name: str
    max_in_flight_messages: int
    max_in_flight_bytes: int
    max_batch_messages: int
    topics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, handler_name: _Optional[str] = ..., max_in_flight_messages: _Optional[int] = ..., max_in_flight_bytes: _Optional[int] = ..., max_batch_messages: _Optional[int] = ..., topics: _Optional[_Iterable[str]] = ...) -> None: ...

class Settle(_message.Message):
    __slots__ = ("settlements",)
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[Settlement]
    def __init__(self, settlements: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("batch_id", "offsets", "outcome", "retry_after_ms", "reason")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    offsets: _containers.RepeatedScalarFieldContainer[int]
    outcome: Outcome
    retry_after_ms: int
    reason: str
    def __init__(self, batch_id: _Optional[int] = ..., offsets: _Optional[_Iterable[int]] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., retry_after_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Extend(_message.Message):
    __slots__ = ("batch_ids", "extend_ms")
    BATCH_IDS_FIELD_NUMBER: _ClassVar[int]
    EXTEND_MS_FIELD_NUMBER: _ClassVar[int]
    batch_ids: _containers.RepeatedScalarFieldContainer[int]
    extend_ms: int
    def __init__(self, batch_ids: _Optional[_Iterable[int]] = ..., extend_ms: _Optional[int] = ...) -> None: ...

class ConsumeResponse(_message.Message):
    __slots__ = ("subscribed", "batch", "assignment", "draining", "paused")
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    subscribed: Subscribed
    batch: Batch
    assignment: AssignmentChange
    draining: Draining
    paused: PartitionPaused
    def __init__(self, subscribed: _Optional[_Union[Subscribed, _Mapping]] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ..., assignment: _Optional[_Union[AssignmentChange, _Mapping]] = ..., draining: _Optional[_Union[Draining, _Mapping]] = ..., paused: _Optional[_Union[PartitionPaused, _Mapping]] = ...) -> None: ...

class Subscribed(_message.Message):
    __slots__ = ("stream_id", "group_id", "topics", "max_in_flight_messages", "max_in_flight_bytes", "max_batch_messages", "ack_timeout_ms", "sidecar_version", "ordering")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    ACK_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    SIDECAR_VERSION_FIELD_NUMBER: _ClassVar[int]
    ORDERING_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    group_id: str
    topics: _containers.RepeatedScalarFieldContainer[str]
    max_in_flight_messages: int
    max_in_flight_bytes: int
    max_batch_messages: int
    ack_timeout_ms: int
    sidecar_version: str
    ordering: Ordering
    def __init__(self, stream_id: _Optional[str] = ..., group_id: _Optional[str] = ..., topics: _Optional[_Iterable[str]] = ..., max_in_flight_messages: _Optional[int] = ..., max_in_flight_bytes: _Optional[int] = ..., max_batch_messages: _Optional[int] = ..., ack_timeout_ms: _Optional[int] = ..., sidecar_version: _Optional[str] = ..., ordering: _Optional[_Union[Ordering, str]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("batch_id", "topic", "partition", "messages")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    topic: str
    partition: int
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    def __init__(self, batch_id: _Optional[int] = ..., topic: _Optional[str] = ..., partition: _Optional[int] = ..., messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("offset", "key", "value", "headers", "timestamp_ms", "delivery_attempt")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    offset: int
    key: bytes
    value: bytes
    headers: _containers.RepeatedCompositeFieldContainer[Header]
    timestamp_ms: int
    delivery_attempt: int
    def __init__(self, offset: _Optional[int] = ..., key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., headers: _Optional[_Iterable[_Union[Header, _Mapping]]] = ..., timestamp_ms: _Optional[int] = ..., delivery_attempt: _Optional[int] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: bytes
    def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...

class TopicPartition(_message.Message):
    __slots__ = ("topic", "partition")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    topic: str
    partition: int
    def __init__(self, topic: _Optional[str] = ..., partition: _Optional[int] = ...) -> None: ...

class AssignmentChange(_message.Message):
    __slots__ = ("assigned", "revoked")
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    assigned: _containers.RepeatedCompositeFieldContainer[TopicPartition]
    revoked: _containers.RepeatedCompositeFieldContainer[TopicPartition]
    def __init__(self, assigned: _Optional[_Iterable[_Union[TopicPartition, _Mapping]]] = ..., revoked: _Optional[_Iterable[_Union[TopicPartition, _Mapping]]] = ...) -> None: ...

class PartitionPaused(_message.Message):
    __slots__ = ("partition", "reason", "resume_in_ms")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESUME_IN_MS_FIELD_NUMBER: _ClassVar[int]
    partition: TopicPartition
    reason: str
    resume_in_ms: int
    def __init__(self, partition: _Optional[_Union[TopicPartition, _Mapping]] = ..., reason: _Optional[str] = ..., resume_in_ms: _Optional[int] = ...) -> None: ...

class Draining(_message.Message):
    __slots__ = ("deadline_ms",)
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    deadline_ms: int
    def __init__(self, deadline_ms: _Optional[int] = ...) -> None: ...

class PartitionsRequest(_message.Message):
    __slots__ = ("partitions",)
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    partitions: _containers.RepeatedCompositeFieldContainer[TopicPartition]
    def __init__(self, partitions: _Optional[_Iterable[_Union[TopicPartition, _Mapping]]] = ...) -> None: ...

class PartitionsResponse(_message.Message):
    __slots__ = ("partitions",)
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    partitions: _containers.RepeatedCompositeFieldContainer[TopicPartition]
    def __init__(self, partitions: _Optional[_Iterable[_Union[TopicPartition, _Mapping]]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("uptime_seconds", "messages_processed", "messages_failed", "processing_rate_per_second", "average_processing_time_ms", "error_rate_percent", "partition_errors", "messages_delivered", "messages_retried", "messages_dead_lettered", "messages_in_flight", "batches_delivered", "stale_settlements", "rebalances", "processing_time_p99_ms", "group_id", "partitions", "streams", "recent_processing_rate_per_second", "seconds_since_last_activity", "sidecar_version", "librdkafka_version", "group_protocol", "messages_first_delivered", "redeliveries", "dead_letter_transient_failures", "dead_letter_permanent_failures", "messages_dead_letter_skipped")
    class PartitionErrorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FAILED_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PROCESSING_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ERRORS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_RETRIED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    BATCHES_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    STALE_SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    REBALANCES_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_TIME_P99_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    RECENT_PROCESSING_RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    SECONDS_SINCE_LAST_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    SIDECAR_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIBRDKAFKA_VERSION_FIELD_NUMBER: _ClassVar[int]
    GROUP_PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIRST_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    REDELIVERIES_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_TRANSIENT_FAILURES_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_PERMANENT_FAILURES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_DEAD_LETTER_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    uptime_seconds: float
    messages_processed: int
    messages_failed: int
    processing_rate_per_second: float
    average_processing_time_ms: float
    error_rate_percent: float
    partition_errors: _containers.ScalarMap[str, int]
    messages_delivered: int
    messages_retried: int
    messages_dead_lettered: int
    messages_in_flight: int
    batches_delivered: int
    stale_settlements: int
    rebalances: int
    processing_time_p99_ms: float
    group_id: str
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionStats]
    streams: _containers.RepeatedCompositeFieldContainer[StreamStats]
    recent_processing_rate_per_second: float
    seconds_since_last_activity: float
    sidecar_version: str
    librdkafka_version: str
    group_protocol: str
    messages_first_delivered: int
    redeliveries: Redeliveries
    dead_letter_transient_failures: int
    dead_letter_permanent_failures: int
    messages_dead_letter_skipped: int
    def __init__(self, uptime_seconds: _Optional[float] = ..., messages_processed: _Optional[int] = ..., messages_failed: _Optional[int] = ..., processing_rate_per_second: _Optional[float] = ..., average_processing_time_ms: _Optional[float] = ..., error_rate_percent: _Optional[float] = ..., partition_errors: _Optional[_Mapping[str, int]] = ..., messages_delivered: _Optional[int] = ..., messages_retried: _Optional[int] = ..., messages_dead_lettered: _Optional[int] = ..., messages_in_flight: _Optional[int] = ..., batches_delivered: _Optional[int] = ..., stale_settlements: _Optional[int] = ..., rebalances: _Optional[int] = ..., processing_time_p99_ms: _Optional[float] = ..., group_id: _Optional[str] = ..., partitions: _Optional[_Iterable[_Union[PartitionStats, _Mapping]]] = ..., streams: _Optional[_Iterable[_Union[StreamStats, _Mapping]]] = ..., recent_processing_rate_per_second: _Optional[float] = ..., seconds_since_last_activity: _Optional[float] = ..., sidecar_version: _Optional[str] = ..., librdkafka_version: _Optional[str] = ..., group_protocol: _Optional[str] = ..., messages_first_delivered: _Optional[int] = ..., redeliveries: _Optional[_Union[Redeliveries, _Mapping]] = ..., dead_letter_transient_failures: _Optional[int] = ..., dead_letter_permanent_failures: _Optional[int] = ..., messages_dead_letter_skipped: _Optional[int] = ...) -> None: ...

class Redeliveries(_message.Message):
    __slots__ = ("retry", "ack_timeout", "rewind", "stream_lost", "rebalance")
    RETRY_FIELD_NUMBER: _ClassVar[int]
    ACK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REWIND_FIELD_NUMBER: _ClassVar[int]
    STREAM_LOST_FIELD_NUMBER: _ClassVar[int]
    REBALANCE_FIELD_NUMBER: _ClassVar[int]
    retry: int
    ack_timeout: int
    rewind: int
    stream_lost: int
    rebalance: int
    def __init__(self, retry: _Optional[int] = ..., ack_timeout: _Optional[int] = ..., rewind: _Optional[int] = ..., stream_lost: _Optional[int] = ..., rebalance: _Optional[int] = ...) -> None: ...

class PartitionStats(_message.Message):
    __slots__ = ("topic", "partition", "paused", "pause_reason", "committed_offset", "high_watermark", "lag", "in_flight", "delivered", "processed", "failed", "retried", "errors", "stream_id", "pause_cause", "dead_letter_pending")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_OFFSET_FIELD_NUMBER: _ClassVar[int]
    HIGH_WATERMARK_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    PAUSE_CAUSE_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_PENDING_FIELD_NUMBER: _ClassVar[int]
    topic: str
    partition: int
    paused: bool
    pause_reason: str
    committed_offset: int
    high_watermark: int
    lag: int
    in_flight: int
    delivered: int
    processed: int
    failed: int
    retried: int
    errors: int
    stream_id: str
    pause_cause: PauseCause
    dead_letter_pending: int
    def __init__(self, topic: _Optional[str] = ..., partition: _Optional[int] = ..., paused: _Optional[bool] = ..., pause_reason: _Optional[str] = ..., committed_offset: _Optional[int] = ..., high_watermark: _Optional[int] = ..., lag: _Optional[int] = ..., in_flight: _Optional[int] = ..., delivered: _Optional[int] = ..., processed: _Optional[int] = ..., failed: _Optional[int] = ..., retried: _Optional[int] = ..., errors: _Optional[int] = ..., stream_id: _Optional[str] = ..., pause_cause: _Optional[_Union[PauseCause, str]] = ..., dead_letter_pending: _Optional[int] = ...) -> None: ...

class StreamStats(_message.Message):
    __slots__ = ("stream_id", "handler_name", "peer", "in_flight", "delivered", "processed", "failed", "connected_seconds", "partitions")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    HANDLER_NAME_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    handler_name: str
    peer: str
    in_flight: int
    delivered: int
    processed: int
    failed: int
    connected_seconds: float
    partitions: _containers.RepeatedCompositeFieldContainer[TopicPartition]
    def __init__(self, stream_id: _Optional[str] = ..., handler_name: _Optional[str] = ..., peer: _Optional[str] = ..., in_flight: _Optional[int] = ..., delivered: _Optional[int] = ..., processed: _Optional[int] = ..., failed: _Optional[int] = ..., connected_seconds: _Optional[float] = ..., partitions: _Optional[_Iterable[_Union[TopicPartition, _Mapping]]] = ...) -> None: ...
