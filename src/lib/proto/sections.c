/* sections: the one list of daemon sections (sections.h). */
#include "lib/proto/sections.h"

#include <stddef.h>

#include "lib/proto/cdsr_settings.h"
#include "lib/proto/control_settings.h"
#include "lib/proto/dns_settings.h"
#include "lib/proto/stream_settings.h"

const struct pc_section *const pc_role_sections[] = {
    &pc_dns_section,  &pc_cdsr_section,    &pc_http_section,
    &pc_rtsp_section, &pc_control_section, NULL,
};
