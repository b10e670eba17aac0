// OwnEvents (bridge/core/own_events.hpp): the app's events for the bridge's
// own commands start no poll; everything else still does.
#include <gtest/gtest.h>

#include "bridge/core/own_events.hpp"

using wibwob::bridge::OwnEvents;

TEST(OwnEvents, AMoveAnnouncedUpFrontIsConsumedOnce) {
  OwnEvents e;
  e.change_sent("w3");
  EXPECT_TRUE(e.consume("w3"));
  EXPECT_FALSE(e.consume("w3"));  // a second event for w3 is someone else's
  EXPECT_FALSE(e.consume("w4"));
  EXPECT_FALSE(e.consume(std::nullopt));
}

TEST(OwnEvents, AFailedCommandExpectsNoEvent) {
  OwnEvents e;
  e.change_sent("w3");
  e.change_done("w3", false);
  EXPECT_FALSE(e.consume("w3"));
}

TEST(OwnEvents, ACreateEventBeforeItsReplyIsOurs) {
  OwnEvents e;
  e.create_sent();
  EXPECT_TRUE(e.consume("w9"));          // held: the id is not known yet
  EXPECT_FALSE(e.create_done("w9"));     // it was ours: no poll
  EXPECT_FALSE(e.consume("w9"));
}

TEST(OwnEvents, ACreateEventAfterItsReplyIsOurs) {
  OwnEvents e;
  e.create_sent();
  EXPECT_FALSE(e.create_done("w9"));
  EXPECT_TRUE(e.consume("w9"));
}

TEST(OwnEvents, AForeignWindowDuringACreateStillPolls) {
  OwnEvents e;
  e.create_sent();
  EXPECT_TRUE(e.consume("w8"));          // held
  EXPECT_TRUE(e.consume("w9"));          // held
  EXPECT_TRUE(e.create_done("w9"));      // w8 was a person's window: poll
  e.create_sent();
  EXPECT_TRUE(e.consume("w10"));
  EXPECT_TRUE(e.create_done(std::nullopt));  // the create failed: the held event was not ours
}

TEST(OwnEvents, APollForgetsExpectations) {
  OwnEvents e;
  e.change_sent("w3");
  e.on_poll();
  EXPECT_FALSE(e.consume("w3"));
}
