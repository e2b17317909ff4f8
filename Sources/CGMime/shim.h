#ifndef CGMime_SHIM_H
#define CGMime_SHIM_H
#include <gmime/gmime.h>

// GObject type checks and casts are function-like macros, invisible to Swift.

/// GMIME_IS_MULTIPART
static inline gboolean cgmime_is_multipart(GMimeObject *object) { return GMIME_IS_MULTIPART(object); }
/// GMIME_IS_MESSAGE_PART
static inline gboolean cgmime_is_message_part(GMimeObject *object) { return GMIME_IS_MESSAGE_PART(object); }
/// GMIME_IS_PART
static inline gboolean cgmime_is_part(GMimeObject *object) { return GMIME_IS_PART(object); }
/// GMIME_MULTIPART
static inline GMimeMultipart *cgmime_multipart(GMimeObject *object) { return GMIME_MULTIPART(object); }
/// GMIME_MESSAGE_PART
static inline GMimeMessagePart *cgmime_message_part(GMimeObject *object) { return GMIME_MESSAGE_PART(object); }
/// GMIME_PART
static inline GMimePart *cgmime_part(GMimeObject *object) { return GMIME_PART(object); }
/// GMIME_OBJECT on a message
static inline GMimeObject *cgmime_message_object(GMimeMessage *message) { return GMIME_OBJECT(message); }
/// GMIME_STREAM_MEM
static inline GMimeStreamMem *cgmime_stream_mem(GMimeStream *stream) { return GMIME_STREAM_MEM(stream); }
/// INTERNET_ADDRESS_IS_MAILBOX
static inline gboolean cgmime_address_is_mailbox(InternetAddress *address) { return INTERNET_ADDRESS_IS_MAILBOX(address); }
/// INTERNET_ADDRESS_IS_GROUP
static inline gboolean cgmime_address_is_group(InternetAddress *address) { return INTERNET_ADDRESS_IS_GROUP(address); }
/// INTERNET_ADDRESS_MAILBOX
static inline InternetAddressMailbox *cgmime_address_mailbox(InternetAddress *address) { return INTERNET_ADDRESS_MAILBOX(address); }
/// INTERNET_ADDRESS_GROUP
static inline InternetAddressGroup *cgmime_address_group(InternetAddress *address) { return INTERNET_ADDRESS_GROUP(address); }
/// g_object_unref, typed for any GObject pointer
static inline void cgmime_unref(gpointer object) { if (object != NULL) g_object_unref(object); }

#endif
