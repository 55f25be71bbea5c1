// log_escape: C-style escaping of client bytes for log lines, as Postfix
// writes them ("EHLO x\r\n"), so that a line of the log is always one line
// and binary junk stays readable.
#pragma once

#include <string>
#include <string_view>

namespace mxs {

// \r \n \t etc. as their C escapes, backslash as "\\", other non-printable
// bytes as three-digit octal ("\001").
std::string CEscape(std::string_view bytes);

}  // namespace mxs
