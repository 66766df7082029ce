// StreamSession: one write at a time, deferred Finish, flow-control waiters.
#include "sidecar/stream/stream_session.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sidecar/stream/stream_writer.h"

namespace kafka_sidecar {
namespace {

using ::testing::InSequence;
using ::testing::Property;
using ::testing::StrictMock;

class MockStreamWriter : public StreamWriter {
 public:
  MOCK_METHOD(void, StartWrite, (const v1::ConsumeResponse* response), (override));
  MOCK_METHOD(void, Finish, (const grpc::Status& status), (override));
};

class MockWakeable : public Wakeable {
 public:
  MOCK_METHOD(void, Wake, (), (override));
};

constexpr auto kStart = MonoTime{} + std::chrono::seconds(50);

// A response with a recognisable batch id; `*ptr` receives its address.
Outgoing Response(uint64_t batch_id, const v1::ConsumeResponse** ptr) {
  Outgoing out = Outgoing::Make();
  out.response->mutable_batch()->set_batch_id(batch_id);
  *ptr = out.response;
  return out;
}

auto HasCode(grpc::StatusCode code) { return Property(&grpc::Status::error_code, code); }

class StreamSessionTest : public ::testing::Test {
 protected:
  StreamSessionTest() : session_(std::make_shared<StreamSession>("s1", &writer_, kStart)) {}

  void Subscribe(uint32_t max_messages, uint64_t max_bytes) {
    StreamOptions o;
    o.handler_name = "h";
    o.topics = {"orders"};
    o.max_in_flight_messages = max_messages;
    o.max_in_flight_bytes = max_bytes;
    o.max_batch_messages = 10;
    session_->Subscribe(o);
  }

  StrictMock<MockStreamWriter> writer_;
  std::shared_ptr<StreamSession> session_;
};

TEST_F(StreamSessionTest, IdentityAndSubscription) {
  EXPECT_EQ(session_->id(), "s1");
  EXPECT_EQ(session_->connected_at(), kStart);
  EXPECT_FALSE(session_->subscribed());
  Subscribe(5, 100);
  EXPECT_TRUE(session_->subscribed());
  EXPECT_EQ(session_->options().handler_name, "h");
  EXPECT_TRUE(session_->Accepts("orders"));
  EXPECT_FALSE(session_->Accepts("payments"));
  EXPECT_FALSE(session_->closed());
}

TEST_F(StreamSessionTest, OnlyOneWriteOutstanding) {
  const v1::ConsumeResponse* a = nullptr;
  const v1::ConsumeResponse* b = nullptr;
  const v1::ConsumeResponse* c = nullptr;
  Outgoing oa = Response(1, &a), ob = Response(2, &b), oc = Response(3, &c);

  EXPECT_CALL(writer_, StartWrite(a));
  EXPECT_TRUE(session_->Send(std::move(oa)));
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  // Queued behind the outstanding write: the strict mock fails on any call.
  EXPECT_TRUE(session_->Send(std::move(ob)));
  EXPECT_TRUE(session_->Send(std::move(oc)));
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  EXPECT_CALL(writer_, StartWrite(b));
  session_->OnWriteDone(true);
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  EXPECT_CALL(writer_, StartWrite(c));
  session_->OnWriteDone(true);
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  // Nothing left: no further write.
  session_->OnWriteDone(true);
  EXPECT_FALSE(session_->closed());

  // And the next Send writes at once again.
  const v1::ConsumeResponse* d = nullptr;
  Outgoing od = Response(4, &d);
  EXPECT_CALL(writer_, StartWrite(d));
  EXPECT_TRUE(session_->Send(std::move(od)));
}

TEST_F(StreamSessionTest, WrittenResponseStaysValidUntilWriteDone) {
  const v1::ConsumeResponse* a = nullptr;
  const v1::ConsumeResponse* b = nullptr;
  Outgoing oa = Response(11, &a), ob = Response(12, &b);
  EXPECT_CALL(writer_, StartWrite(a)).WillOnce([](const v1::ConsumeResponse* r) {
    EXPECT_EQ(r->batch().batch_id(), 11u);
  });
  ASSERT_TRUE(session_->Send(std::move(oa)));
  ASSERT_TRUE(session_->Send(std::move(ob)));
  // The first response is still intact after the second was queued.
  EXPECT_EQ(a->batch().batch_id(), 11u);
  EXPECT_CALL(writer_, StartWrite(b)).WillOnce([](const v1::ConsumeResponse* r) {
    EXPECT_EQ(r->batch().batch_id(), 12u);
  });
  session_->OnWriteDone(true);
}

TEST_F(StreamSessionTest, FinishIsDeferredUntilTheOutstandingWriteCompletes) {
  const v1::ConsumeResponse* a = nullptr;
  const v1::ConsumeResponse* b = nullptr;
  Outgoing oa = Response(1, &a), ob = Response(2, &b);
  EXPECT_CALL(writer_, StartWrite(a));
  ASSERT_TRUE(session_->Send(std::move(oa)));
  ASSERT_TRUE(session_->Send(std::move(ob)));  // queued
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  // No Finish while `a` is being written.
  session_->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"));
  EXPECT_TRUE(session_->closed());
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  // Write done: Finish now, and the queued `b` is never written.
  EXPECT_CALL(writer_, Finish(HasCode(grpc::StatusCode::INVALID_ARGUMENT)));
  session_->OnWriteDone(true);
  ::testing::Mock::VerifyAndClearExpectations(&writer_);

  // Idempotent: a second Finish and a stray completion do nothing.
  session_->Finish(grpc::Status::CANCELLED);
  session_->OnWriteDone(true);
}

TEST_F(StreamSessionTest, FinishWithNothingOutstandingIsImmediateAndOnce) {
  EXPECT_CALL(writer_, Finish(HasCode(grpc::StatusCode::OK))).Times(1);
  session_->Finish(grpc::Status::OK);
  session_->Finish(grpc::Status::CANCELLED);
  EXPECT_TRUE(session_->closed());
}

TEST_F(StreamSessionTest, SendAfterFinishReturnsFalse) {
  EXPECT_CALL(writer_, Finish(HasCode(grpc::StatusCode::OK)));
  session_->Finish(grpc::Status::OK);
  const v1::ConsumeResponse* a = nullptr;
  EXPECT_FALSE(session_->Send(Response(1, &a)));  // strict mock: no StartWrite
}

TEST_F(StreamSessionTest, SendAfterFinishRequestedDuringAWriteReturnsFalse) {
  const v1::ConsumeResponse* a = nullptr;
  const v1::ConsumeResponse* b = nullptr;
  Outgoing oa = Response(1, &a);
  EXPECT_CALL(writer_, StartWrite(a));
  ASSERT_TRUE(session_->Send(std::move(oa)));
  session_->Finish(grpc::Status::OK);
  EXPECT_FALSE(session_->Send(Response(2, &b)));
  EXPECT_CALL(writer_, Finish(HasCode(grpc::StatusCode::OK)));
  session_->OnWriteDone(true);
}

TEST_F(StreamSessionTest, SendAfterDetachReturnsFalse) {
  session_->Detach();
  EXPECT_TRUE(session_->closed());
  const v1::ConsumeResponse* a = nullptr;
  EXPECT_FALSE(session_->Send(Response(1, &a)));
  // The writer is gone: Finish must not touch it.
  session_->Finish(grpc::Status::CANCELLED);
}

TEST_F(StreamSessionTest, DetachDuringAWriteNeverCallsTheWriterAgain) {
  const v1::ConsumeResponse* a = nullptr;
  const v1::ConsumeResponse* b = nullptr;
  Outgoing oa = Response(1, &a), ob = Response(2, &b);
  EXPECT_CALL(writer_, StartWrite(a));
  ASSERT_TRUE(session_->Send(std::move(oa)));
  ASSERT_TRUE(session_->Send(std::move(ob)));
  session_->Detach();
  session_->OnWriteDone(false);
  session_->Finish(grpc::Status::CANCELLED);
  const v1::ConsumeResponse* c = nullptr;
  EXPECT_FALSE(session_->Send(Response(3, &c)));
}

TEST_F(StreamSessionTest, FailedWriteClosesAndDropsQueued) {
  const v1::ConsumeResponse* a = nullptr;
  const v1::ConsumeResponse* b = nullptr;
  Outgoing oa = Response(1, &a), ob = Response(2, &b);
  EXPECT_CALL(writer_, StartWrite(a));
  ASSERT_TRUE(session_->Send(std::move(oa)));
  ASSERT_TRUE(session_->Send(std::move(ob)));
  session_->OnWriteDone(false);  // strict: `b` is not written
  EXPECT_TRUE(session_->closed());
  const v1::ConsumeResponse* c = nullptr;
  EXPECT_FALSE(session_->Send(Response(3, &c)));
  // The transport still gets its Finish.
  EXPECT_CALL(writer_, Finish(HasCode(grpc::StatusCode::UNAVAILABLE)));
  session_->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "gone"));
}

TEST_F(StreamSessionTest, NoWindowBeforeSubscribe) {
  StrictMock<MockWakeable> waiter;
  EXPECT_EQ(session_->AcquireWindow(1, [](size_t) { return uint64_t{1}; }, &waiter), 0u);
  EXPECT_EQ(session_->in_flight_messages(), 0u);
}

TEST_F(StreamSessionTest, WindowAcquireRegistersAWaiterWokenOnRelease) {
  Subscribe(/*max_messages=*/2, /*max_bytes=*/1000);
  StrictMock<MockWakeable> waiter;
  auto ten = [](size_t) { return uint64_t{10}; };

  // Fits: no waiter registered, so a release wakes nobody.
  EXPECT_EQ(session_->AcquireWindow(1, ten, &waiter), 1u);
  session_->ReleaseWindow(1, 10);
  ::testing::Mock::VerifyAndClearExpectations(&waiter);

  EXPECT_EQ(session_->AcquireWindow(3, ten, &waiter), 2u);
  EXPECT_EQ(session_->in_flight_messages(), 2u);
  EXPECT_EQ(session_->AcquireWindow(1, ten, &waiter), 0u);  // full: registers
  ::testing::Mock::VerifyAndClearExpectations(&waiter);

  EXPECT_CALL(waiter, Wake()).Times(1);
  session_->ReleaseWindow(1, 10);
  ::testing::Mock::VerifyAndClearExpectations(&waiter);
  EXPECT_EQ(session_->in_flight_messages(), 1u);

  // Woken once: the next release does not wake again.
  session_->ReleaseWindow(1, 10);
  ::testing::Mock::VerifyAndClearExpectations(&waiter);
  EXPECT_EQ(session_->in_flight_messages(), 0u);
  EXPECT_EQ(session_->AcquireWindow(1, ten, &waiter), 1u);
}

TEST_F(StreamSessionTest, EveryWaiterIsWokenOnce) {
  Subscribe(1, 1000);
  StrictMock<MockWakeable> w1, w2;
  auto one = [](size_t) { return uint64_t{1}; };
  ASSERT_EQ(session_->AcquireWindow(1, one, &w1), 1u);
  EXPECT_EQ(session_->AcquireWindow(1, one, &w1), 0u);
  EXPECT_EQ(session_->AcquireWindow(1, one, &w1), 0u);  // registered twice: woken once
  EXPECT_EQ(session_->AcquireWindow(1, one, &w2), 0u);
  EXPECT_CALL(w1, Wake()).Times(1);
  EXPECT_CALL(w2, Wake()).Times(1);
  session_->ReleaseWindow(1, 1);
}

TEST_F(StreamSessionTest, FinishWakesWaitersAndClosesTheWindow) {
  Subscribe(1, 1000);
  StrictMock<MockWakeable> waiter;
  auto one = [](size_t) { return uint64_t{1}; };
  ASSERT_EQ(session_->AcquireWindow(1, one, &waiter), 1u);
  ASSERT_EQ(session_->AcquireWindow(1, one, &waiter), 0u);
  {
    InSequence s;
    EXPECT_CALL(waiter, Wake());
    EXPECT_CALL(writer_, Finish(HasCode(grpc::StatusCode::OK)));
  }
  session_->Finish(grpc::Status::OK);
  ::testing::Mock::VerifyAndClearExpectations(&waiter);
  session_->ReleaseWindow(1, 1);
  EXPECT_EQ(session_->AcquireWindow(1, one, &waiter), 0u);  // closed: nothing more
}

}  // namespace
}  // namespace kafka_sidecar
