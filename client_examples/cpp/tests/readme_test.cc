// The README quotes the minimal handler and its CMakeLists.txt; these keep
// the quotes equal to the files packaging/make_outside_project.sh builds.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::string Read(const std::string& relative) {
  std::ifstream in(std::string(CPP_CLIENT_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The contents of every fenced code block, in order.
std::vector<std::string> CodeBlocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream lines(markdown);
  std::string line;
  std::string block;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) {
      if (inside) blocks.push_back(block);
      inside = !inside;
      block.clear();
    } else if (inside) {
      block += line + "\n";
    }
  }
  return blocks;
}

TEST(ReadmeTest, StartsWithTheMinimalHandlerVerbatim) {
  const std::vector<std::string> blocks = CodeBlocks(Read("README.md"));
  ASSERT_FALSE(blocks.empty());
  EXPECT_EQ(blocks[0], Read("packaging/minimal/handler.cc"));
}

TEST(ReadmeTest, QuotesTheMinimalProjectsCMakeListsVerbatim) {
  const std::vector<std::string> blocks = CodeBlocks(Read("README.md"));
  const std::string cmake = Read("packaging/minimal/CMakeLists.txt");
  int quoted = 0;
  for (const std::string& b : blocks) quoted += b == cmake ? 1 : 0;
  EXPECT_EQ(quoted, 1) << "README.md should quote packaging/minimal/CMakeLists.txt once";
}

}  // namespace
