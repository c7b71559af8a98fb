#include "engine/mllp/framer.h"

#include <algorithm>

namespace cpis::mllp {

std::string frame(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 3);
  out.push_back(kStartBlock);
  out.append(payload);
  out.push_back(kEndBlock);
  out.push_back(kCarriageReturn);
  return out;
}

void MllpFramer::feed(std::string_view bytes, std::vector<FrameEvent>& events) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::AfterEnd:
        if (bytes[i] == kCarriageReturn) {
          ++i;
        } else {
          ++missingCarriageReturns_;
        }
        state_ = State::Between;
        break;
      case State::Between: {
        const std::size_t start = bytes.find(kStartBlock, i);
        const std::size_t stop = start == std::string_view::npos ? bytes.size() : start;
        droppedBytes_ += stop - i;
        // A line end after the end block's CR (0x1C 0x0D 0x0A, common) is not a peer that
        // does not speak MLLP: counted dropped, not stray.
        for (std::size_t k = i; k < stop; ++k) strayBytes_ += bytes[k] != '\n' && bytes[k] != '\r' ? 1 : 0;
        i = stop;
        if (start != std::string_view::npos) {
          ++i;
          state_ = State::InFrame;
          // room for a frame like the last one at once, rather than growing it read by read
          current_.reserve(std::min(lastFrameBytes_, maxFrameBytes_));
        }
        break;
      }
      case State::InFrame: {
        // copy up to the next control byte in one go (two memchr scans: find_first_of would
        // call memchr once for every byte of the message)
        std::size_t next = bytes.find(kEndBlock, i);
        const std::size_t startBefore = bytes.substr(0, next).find(kStartBlock, i);
        if (startBefore != std::string_view::npos) next = startBefore;
        const std::size_t stop = next == std::string_view::npos ? bytes.size() : next;
        const std::size_t room = maxFrameBytes_ - current_.size();
        if (stop - i > room) {
          current_.append(bytes.substr(i, room));
          events.push_back({FrameEvent::Kind::Oversized, std::move(current_)});
          current_.clear();
          i += room;
          state_ = State::Discarding;
          break;
        }
        current_.append(bytes.substr(i, stop - i));
        i = stop;
        if (next == std::string_view::npos) break;
        ++i;
        if (bytes[next] == kEndBlock) {
          lastFrameBytes_ = current_.size();
          events.push_back({FrameEvent::Kind::Frame, std::move(current_)});
          state_ = State::AfterEnd;
        } else {  // a start block inside a frame
          events.push_back({FrameEvent::Kind::Abandoned, std::move(current_)});
        }
        current_.clear();
        break;
      }
      case State::Discarding: {
        const std::size_t end = bytes.find(kEndBlock, i);
        const std::size_t stop = end == std::string_view::npos ? bytes.size() : end;
        droppedBytes_ += stop - i;
        i = stop;
        if (end != std::string_view::npos) {
          ++i;
          state_ = State::AfterEnd;
        }
        break;
      }
    }
  }
}

}  // namespace cpis::mllp
