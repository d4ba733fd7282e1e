// Debian's libopenblas-dev installs cblas.h under /usr/include (via alternatives) and
// /usr/include/x86_64-linux-gnu/openblas-pthread/.
#include <cblas.h>
