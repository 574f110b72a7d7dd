//! The three code spaces of the SMPP header and TLVs: [`CommandId`], [`CommandStatus`] and [`Tag`].
//!
//! Each is a newtype over the wire integer with every name from the SMPP 3.4 and 5.0
//! specifications as a constant.
//! Unknown values are kept as they are, so they survive a decode/encode round trip.

use core::fmt;

macro_rules! code_space {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty), $fmt:literal;
        $( $(#[$cmeta:meta])* $konst:ident = $value:literal, $meaning:literal; )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $int);

        impl $name {
            $(
                #[doc = $meaning]
                $(#[$cmeta])*
                pub const $konst: $name = $name($value);
            )*

            /// Every named value, in numeric order of the table.
            pub const ALL: &'static [$name] = &[$($name::$konst),*];

            /// The spec name (for example `ESME_RINVCMDLEN`), or `None` for an unnamed value.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($konst)),)*
                    _ => None,
                }
            }

            /// A short English description of the value, or `None` for an unnamed value.
            pub fn meaning(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($meaning),)*
                    _ => None,
                }
            }

            /// Looks a value up by its spec name (case-insensitive).
            pub fn from_name(name: &str) -> Option<$name> {
                $(
                    if name.eq_ignore_ascii_case(stringify!($konst)) {
                        return Some($name::$konst);
                    }
                )*
                None
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "(", $fmt, ")"), self.0),
                }
            }
        }

        impl fmt::Display for $name {
            /// The name and meaning, for example `ESME_RINVCMDLEN (command_length invalid)`,
            /// or the hexadecimal value for an unnamed one.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match (self.name(), self.meaning()) {
                    (Some(n), Some(m)) => write!(f, "{n} ({m})"),
                    _ => write!(f, $fmt, self.0),
                }
            }
        }

        impl From<$int> for $name {
            fn from(v: $int) -> Self {
                $name(v)
            }
        }

        impl From<$name> for $int {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}

code_space! {
    /// The `command_id` of a PDU header (reference §2).
    ///
    /// Bit 31 marks a response: a response id is its request id with `0x8000_0000` set.
    CommandId(u32), "{:#010x}";
    GENERIC_NACK = 0x8000_0000, "negative acknowledgement of an unframeable or unknown PDU";
    BIND_RECEIVER = 0x0000_0001, "bind as a receiver";
    BIND_RECEIVER_RESP = 0x8000_0001, "response to bind_receiver";
    BIND_TRANSMITTER = 0x0000_0002, "bind as a transmitter";
    BIND_TRANSMITTER_RESP = 0x8000_0002, "response to bind_transmitter";
    QUERY_SM = 0x0000_0003, "query the state of a submitted message";
    QUERY_SM_RESP = 0x8000_0003, "response to query_sm";
    SUBMIT_SM = 0x0000_0004, "submit a short message";
    SUBMIT_SM_RESP = 0x8000_0004, "response to submit_sm";
    DELIVER_SM = 0x0000_0005, "deliver a short message or receipt to the ESME";
    DELIVER_SM_RESP = 0x8000_0005, "response to deliver_sm";
    UNBIND = 0x0000_0006, "end the session";
    UNBIND_RESP = 0x8000_0006, "response to unbind";
    REPLACE_SM = 0x0000_0007, "replace a submitted message";
    REPLACE_SM_RESP = 0x8000_0007, "response to replace_sm";
    CANCEL_SM = 0x0000_0008, "cancel a submitted message";
    CANCEL_SM_RESP = 0x8000_0008, "response to cancel_sm";
    BIND_TRANSCEIVER = 0x0000_0009, "bind as a transceiver";
    BIND_TRANSCEIVER_RESP = 0x8000_0009, "response to bind_transceiver";
    OUTBIND = 0x0000_000B, "SMSC asks the ESME to bind";
    ENQUIRE_LINK = 0x0000_0015, "link keep-alive probe";
    ENQUIRE_LINK_RESP = 0x8000_0015, "response to enquire_link";
    SUBMIT_MULTI = 0x0000_0021, "submit a message to several destinations";
    SUBMIT_MULTI_RESP = 0x8000_0021, "response to submit_multi";
    ALERT_NOTIFICATION = 0x0000_0102, "a mobile station became available";
    DATA_SM = 0x0000_0103, "transfer data (either direction)";
    DATA_SM_RESP = 0x8000_0103, "response to data_sm";
    BROADCAST_SM = 0x0000_0111, "submit a cell broadcast message (SMPP 5.0)";
    BROADCAST_SM_RESP = 0x8000_0111, "response to broadcast_sm (SMPP 5.0)";
    QUERY_BROADCAST_SM = 0x0000_0112, "query a broadcast message (SMPP 5.0)";
    QUERY_BROADCAST_SM_RESP = 0x8000_0112, "response to query_broadcast_sm (SMPP 5.0)";
    CANCEL_BROADCAST_SM = 0x0000_0113, "cancel a broadcast message (SMPP 5.0)";
    CANCEL_BROADCAST_SM_RESP = 0x8000_0113, "response to cancel_broadcast_sm (SMPP 5.0)";
}

impl CommandId {
    /// The bit that marks a response.
    pub const RESPONSE_BIT: u32 = 0x8000_0000;

    /// Whether this id is a response (bit 31 set), `generic_nack` included.
    pub fn is_response(self) -> bool {
        self.0 & Self::RESPONSE_BIT != 0
    }

    /// The id of the response to this request, or `None` for PDUs that have no response
    /// (`outbind`, `alert_notification`) and for responses.
    pub fn response(self) -> Option<CommandId> {
        if self.is_response() || self == CommandId::OUTBIND || self == CommandId::ALERT_NOTIFICATION
        {
            None
        } else {
            Some(CommandId(self.0 | Self::RESPONSE_BIT))
        }
    }

    /// For a response, the id of its request (`None` for `generic_nack` and requests).
    pub fn request(self) -> Option<CommandId> {
        if self.is_response() && self != CommandId::GENERIC_NACK {
            Some(CommandId(self.0 & !Self::RESPONSE_BIT))
        } else {
            None
        }
    }

    /// The spec name in lower case, as the specification text writes it (`submit_sm`).
    pub fn snake_name(self) -> Option<&'static str> {
        match self {
            CommandId::GENERIC_NACK => Some("generic_nack"),
            CommandId::BIND_RECEIVER => Some("bind_receiver"),
            CommandId::BIND_RECEIVER_RESP => Some("bind_receiver_resp"),
            CommandId::BIND_TRANSMITTER => Some("bind_transmitter"),
            CommandId::BIND_TRANSMITTER_RESP => Some("bind_transmitter_resp"),
            CommandId::QUERY_SM => Some("query_sm"),
            CommandId::QUERY_SM_RESP => Some("query_sm_resp"),
            CommandId::SUBMIT_SM => Some("submit_sm"),
            CommandId::SUBMIT_SM_RESP => Some("submit_sm_resp"),
            CommandId::DELIVER_SM => Some("deliver_sm"),
            CommandId::DELIVER_SM_RESP => Some("deliver_sm_resp"),
            CommandId::UNBIND => Some("unbind"),
            CommandId::UNBIND_RESP => Some("unbind_resp"),
            CommandId::REPLACE_SM => Some("replace_sm"),
            CommandId::REPLACE_SM_RESP => Some("replace_sm_resp"),
            CommandId::CANCEL_SM => Some("cancel_sm"),
            CommandId::CANCEL_SM_RESP => Some("cancel_sm_resp"),
            CommandId::BIND_TRANSCEIVER => Some("bind_transceiver"),
            CommandId::BIND_TRANSCEIVER_RESP => Some("bind_transceiver_resp"),
            CommandId::OUTBIND => Some("outbind"),
            CommandId::ENQUIRE_LINK => Some("enquire_link"),
            CommandId::ENQUIRE_LINK_RESP => Some("enquire_link_resp"),
            CommandId::SUBMIT_MULTI => Some("submit_multi"),
            CommandId::SUBMIT_MULTI_RESP => Some("submit_multi_resp"),
            CommandId::ALERT_NOTIFICATION => Some("alert_notification"),
            CommandId::DATA_SM => Some("data_sm"),
            CommandId::DATA_SM_RESP => Some("data_sm_resp"),
            CommandId::BROADCAST_SM => Some("broadcast_sm"),
            CommandId::BROADCAST_SM_RESP => Some("broadcast_sm_resp"),
            CommandId::QUERY_BROADCAST_SM => Some("query_broadcast_sm"),
            CommandId::QUERY_BROADCAST_SM_RESP => Some("query_broadcast_sm_resp"),
            CommandId::CANCEL_BROADCAST_SM => Some("cancel_broadcast_sm"),
            CommandId::CANCEL_BROADCAST_SM_RESP => Some("cancel_broadcast_sm_resp"),
            _ => None,
        }
    }
}

code_space! {
    /// The `command_status` of a response header (reference §5).
    ///
    /// Requests carry `ESME_ROK`. SMPP 5.0 renamed the TLV codes `0xC0..=0xC4`;
    /// both spellings exist as constants.
    CommandStatus(u32), "{:#010x}";
    ESME_ROK = 0x0000_0000, "OK";
    ESME_RINVMSGLEN = 0x0000_0001, "message length invalid";
    ESME_RINVCMDLEN = 0x0000_0002, "command_length invalid";
    ESME_RINVCMDID = 0x0000_0003, "command_id invalid or unsupported";
    ESME_RINVBNDSTS = 0x0000_0004, "PDU not allowed in the current bind state";
    ESME_RALYBND = 0x0000_0005, "already bound";
    ESME_RINVPRTFLG = 0x0000_0006, "invalid priority_flag";
    ESME_RINVREGDLVFLG = 0x0000_0007, "invalid registered_delivery";
    ESME_RSYSERR = 0x0000_0008, "system error";
    ESME_RINVSRCADR = 0x0000_000A, "invalid source address";
    ESME_RINVDSTADR = 0x0000_000B, "invalid destination address";
    ESME_RINVMSGID = 0x0000_000C, "invalid message_id";
    ESME_RBINDFAIL = 0x0000_000D, "bind failed";
    ESME_RINVPASWD = 0x0000_000E, "invalid password";
    ESME_RINVSYSID = 0x0000_000F, "invalid system_id";
    ESME_RCANCELFAIL = 0x0000_0011, "cancel_sm failed";
    ESME_RREPLACEFAIL = 0x0000_0013, "replace_sm failed";
    ESME_RMSGQFUL = 0x0000_0014, "message queue full";
    ESME_RINVSERTYP = 0x0000_0015, "invalid service_type";
    ESME_RINVNUMDESTS = 0x0000_0033, "invalid number_of_dests";
    ESME_RINVDLNAME = 0x0000_0034, "invalid distribution list name";
    ESME_RINVDESTFLAG = 0x0000_0040, "invalid dest_flag";
    ESME_RINVSUBREP = 0x0000_0042, "invalid submit with replace request";
    ESME_RINVESMCLASS = 0x0000_0043, "invalid esm_class";
    ESME_RCNTSUBDL = 0x0000_0044, "cannot submit to distribution list";
    ESME_RSUBMITFAIL = 0x0000_0045, "submit_sm or submit_multi failed";
    ESME_RINVSRCTON = 0x0000_0048, "invalid source address TON";
    ESME_RINVSRCNPI = 0x0000_0049, "invalid source address NPI";
    ESME_RINVDSTTON = 0x0000_0050, "invalid destination address TON";
    ESME_RINVDSTNPI = 0x0000_0051, "invalid destination address NPI";
    ESME_RINVSYSTYP = 0x0000_0053, "invalid system_type";
    ESME_RINVREPFLAG = 0x0000_0054, "invalid replace_if_present_flag";
    ESME_RINVNUMMSGS = 0x0000_0055, "invalid number of messages";
    ESME_RTHROTTLED = 0x0000_0058, "throttling error: the ESME exceeded its allowed message rate";
    ESME_RINVSCHED = 0x0000_0061, "invalid schedule_delivery_time";
    ESME_RINVEXPIRY = 0x0000_0062, "invalid validity_period";
    ESME_RINVDFTMSGID = 0x0000_0063, "predefined message invalid or not found";
    ESME_RX_T_APPN = 0x0000_0064, "ESME receiver temporary application error";
    ESME_RX_P_APPN = 0x0000_0065, "ESME receiver permanent application error";
    ESME_RX_R_APPN = 0x0000_0066, "ESME receiver reject message error";
    ESME_RQUERYFAIL = 0x0000_0067, "query_sm failed";
    ESME_RINVOPTPARSTREAM = 0x0000_00C0, "error in the optional part (TLV stream) of the PDU body";
    ESME_ROPTPARNOTALLWD = 0x0000_00C1, "optional parameter (TLV) not allowed";
    ESME_RINVPARLEN = 0x0000_00C2, "invalid parameter (TLV) length";
    ESME_RMISSINGOPTPARAM = 0x0000_00C3, "expected optional parameter (TLV) missing";
    ESME_RINVOPTPARAMVAL = 0x0000_00C4, "invalid optional parameter (TLV) value";
    ESME_RDELIVERYFAILURE = 0x0000_00FE, "delivery failure (data_sm_resp)";
    ESME_RUNKNOWNERR = 0x0000_00FF, "unknown error";
    ESME_RSERTYPUNAUTH = 0x0000_0100, "not authorised to use the service_type (SMPP 5.0)";
    ESME_RPROHIBITED = 0x0000_0101, "operation prohibited (SMPP 5.0)";
    ESME_RSERTYPUNAVAIL = 0x0000_0102, "service_type unavailable (SMPP 5.0)";
    ESME_RSERTYPDENIED = 0x0000_0103, "service_type denied (SMPP 5.0)";
    ESME_RINVDCS = 0x0000_0104, "invalid data_coding scheme (SMPP 5.0)";
    ESME_RINVSRCADDRSUBUNIT = 0x0000_0105, "invalid source_addr_subunit (SMPP 5.0)";
    ESME_RINVDSTADDRSUBUNIT = 0x0000_0106, "invalid dest_addr_subunit (SMPP 5.0)";
    ESME_RINVBCASTFREQINT = 0x0000_0107, "invalid broadcast_frequency_interval (SMPP 5.0)";
    ESME_RINVBCASTALIAS_NAME = 0x0000_0108, "invalid broadcast alias name (SMPP 5.0)";
    ESME_RINVBCASTAREAFMT = 0x0000_0109, "invalid broadcast area format (SMPP 5.0)";
    ESME_RINVNUMBCAST_AREAS = 0x0000_010A, "invalid number of broadcast areas (SMPP 5.0)";
    ESME_RINVBCASTCNTTYPE = 0x0000_010B, "invalid broadcast_content_type (SMPP 5.0)";
    ESME_RINVBCASTMSGCLASS = 0x0000_010C, "invalid broadcast_message_class (SMPP 5.0)";
    ESME_RBCASTFAIL = 0x0000_010D, "broadcast_sm failed (SMPP 5.0)";
    ESME_RBCASTQUERYFAIL = 0x0000_010E, "query_broadcast_sm failed (SMPP 5.0)";
    ESME_RBCASTCANCELFAIL = 0x0000_010F, "cancel_broadcast_sm failed (SMPP 5.0)";
    ESME_RINVBCAST_REP = 0x0000_0110, "invalid broadcast_rep_num (SMPP 5.0)";
    ESME_RINVBCASTSRVGRP = 0x0000_0111, "invalid broadcast_service_group (SMPP 5.0)";
    ESME_RINVBCASTCHANIND = 0x0000_0112, "invalid broadcast_channel_indicator (SMPP 5.0)";
}

impl CommandStatus {
    /// SMPP 5.0 name of `ESME_RINVOPTPARSTREAM`.
    pub const ESME_RINVTLVSTREAM: CommandStatus = CommandStatus::ESME_RINVOPTPARSTREAM;
    /// SMPP 5.0 name of `ESME_ROPTPARNOTALLWD`.
    pub const ESME_RTLVNOTALLWD: CommandStatus = CommandStatus::ESME_ROPTPARNOTALLWD;
    /// SMPP 5.0 name of `ESME_RINVPARLEN`.
    pub const ESME_RINVTLVLEN: CommandStatus = CommandStatus::ESME_RINVPARLEN;
    /// SMPP 5.0 name of `ESME_RMISSINGOPTPARAM`.
    pub const ESME_RMISSINGTLV: CommandStatus = CommandStatus::ESME_RMISSINGOPTPARAM;
    /// SMPP 5.0 name of `ESME_RINVOPTPARAMVAL`.
    pub const ESME_RINVTLVVAL: CommandStatus = CommandStatus::ESME_RINVOPTPARAMVAL;

    /// Looks a status up by its SMPP 3.4 or 5.0 name (case-insensitive), so both
    /// `ESME_RINVOPTPARSTREAM` and `ESME_RINVTLVSTREAM` are found.
    pub fn from_any_name(name: &str) -> Option<CommandStatus> {
        const V5: [(&str, CommandStatus); 5] = [
            ("ESME_RINVTLVSTREAM", CommandStatus::ESME_RINVOPTPARSTREAM),
            ("ESME_RTLVNOTALLWD", CommandStatus::ESME_ROPTPARNOTALLWD),
            ("ESME_RINVTLVLEN", CommandStatus::ESME_RINVPARLEN),
            ("ESME_RMISSINGTLV", CommandStatus::ESME_RMISSINGOPTPARAM),
            ("ESME_RINVTLVVAL", CommandStatus::ESME_RINVOPTPARAMVAL),
        ];
        CommandStatus::from_name(name).or_else(|| {
            V5.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, s)| *s)
        })
    }

    /// Whether this is `ESME_ROK`.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Whether the value lies in the range reserved for SMSC vendors (`0x400..=0x4FF`).
    pub fn is_vendor_specific(self) -> bool {
        (0x400..=0x4FF).contains(&self.0)
    }

    /// Whether a sender should treat this status as temporary and retry later
    /// (throttling, a full queue, a temporary application error or a system error).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            CommandStatus::ESME_RTHROTTLED
                | CommandStatus::ESME_RMSGQFUL
                | CommandStatus::ESME_RX_T_APPN
                | CommandStatus::ESME_RSYSERR
        )
    }
}

code_space! {
    /// The tag of a TLV (optional parameter), reference §6.1.
    ///
    /// Vendor tags (`0x1400..=0x3FFF`) and unknown tags are kept as their number.
    Tag(u16), "{:#06x}";
    DEST_ADDR_SUBUNIT = 0x0005, "subunit of the destination (MS display, SIM, ...)";
    DEST_NETWORK_TYPE = 0x0006, "network type of the destination";
    DEST_BEARER_TYPE = 0x0007, "bearer type of the destination";
    DEST_TELEMATICS_ID = 0x0008, "telematics id of the destination";
    SOURCE_ADDR_SUBUNIT = 0x000D, "subunit of the originator";
    SOURCE_NETWORK_TYPE = 0x000E, "network type of the originator";
    SOURCE_BEARER_TYPE = 0x000F, "bearer type of the originator";
    SOURCE_TELEMATICS_ID = 0x0010, "telematics id of the originator";
    QOS_TIME_TO_LIVE = 0x0017, "time to live in seconds";
    PAYLOAD_TYPE = 0x0019, "type of payload (WDP or WCMP)";
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D, "free text about the status";
    RECEIPTED_MESSAGE_ID = 0x001E, "message id of the message a receipt is about";
    MS_MSG_WAIT_FACILITIES = 0x0030, "message waiting indicator";
    PRIVACY_INDICATOR = 0x0201, "privacy level of the message";
    SOURCE_SUBADDRESS = 0x0202, "subaddress of the originator";
    DEST_SUBADDRESS = 0x0203, "subaddress of the destination";
    USER_MESSAGE_REFERENCE = 0x0204, "ESME-assigned message reference";
    USER_RESPONSE_CODE = 0x0205, "user response code";
    SOURCE_PORT = 0x020A, "application port of the originator";
    DESTINATION_PORT = 0x020B, "application port of the destination (SMPP 5.0: dest_port)";
    SAR_MSG_REF_NUM = 0x020C, "reference number of a segmented message";
    LANGUAGE_INDICATOR = 0x020D, "language of the message";
    SAR_TOTAL_SEGMENTS = 0x020E, "number of segments of a segmented message";
    SAR_SEGMENT_SEQNUM = 0x020F, "number of this segment";
    SC_INTERFACE_VERSION = 0x0210, "SMPP version supported by the SMSC";
    CALLBACK_NUM_PRES_IND = 0x0302, "presentation and screening of the callback number";
    CALLBACK_NUM_ATAG = 0x0303, "alphanumeric display tag of the callback number";
    NUMBER_OF_MESSAGES = 0x0304, "number of messages in the mailbox";
    CALLBACK_NUM = 0x0381, "callback number";
    DPF_RESULT = 0x0420, "whether delivery pending flag was set";
    SET_DPF = 0x0421, "request to set the delivery pending flag";
    MS_AVAILABILITY_STATUS = 0x0422, "availability of the mobile station";
    NETWORK_ERROR_CODE = 0x0423, "network error code";
    MESSAGE_PAYLOAD = 0x0424, "the message (up to 64K octets) instead of short_message";
    DELIVERY_FAILURE_REASON = 0x0425, "reason for a delivery failure";
    MORE_MESSAGES_TO_SEND = 0x0426, "more messages follow";
    MESSAGE_STATE = 0x0427, "state of the message";
    CONGESTION_STATE = 0x0428, "congestion level of the sender, 0-100 (SMPP 5.0)";
    USSD_SERVICE_OP = 0x0501, "USSD service operation";
    BROADCAST_CHANNEL_INDICATOR = 0x0600, "broadcast channel (SMPP 5.0)";
    BROADCAST_CONTENT_TYPE = 0x0601, "broadcast content type (SMPP 5.0)";
    BROADCAST_CONTENT_TYPE_INFO = 0x0602, "broadcast content type information (SMPP 5.0)";
    BROADCAST_MESSAGE_CLASS = 0x0603, "broadcast message class (SMPP 5.0)";
    BROADCAST_REP_NUM = 0x0604, "number of broadcast repetitions (SMPP 5.0)";
    BROADCAST_FREQUENCY_INTERVAL = 0x0605, "interval between broadcast repetitions (SMPP 5.0)";
    BROADCAST_AREA_IDENTIFIER = 0x0606, "broadcast area (SMPP 5.0)";
    BROADCAST_ERROR_STATUS = 0x0607, "broadcast error status (SMPP 5.0)";
    BROADCAST_AREA_SUCCESS = 0x0608, "broadcast success rate in percent (SMPP 5.0)";
    BROADCAST_END_TIME = 0x0609, "end time of a broadcast (SMPP 5.0)";
    BROADCAST_SERVICE_GROUP = 0x060A, "broadcast service group (SMPP 5.0)";
    BILLING_IDENTIFICATION = 0x060B, "billing information (SMPP 5.0)";
    SOURCE_NETWORK_ID = 0x060D, "network id of the originator (SMPP 5.0)";
    DEST_NETWORK_ID = 0x060E, "network id of the destination (SMPP 5.0)";
    SOURCE_NODE_ID = 0x060F, "node id of the originator (SMPP 5.0)";
    DEST_NODE_ID = 0x0610, "node id of the destination (SMPP 5.0)";
    DEST_ADDR_NP_RESOLUTION = 0x0611, "number portability query result (SMPP 5.0)";
    DEST_ADDR_NP_INFORMATION = 0x0612, "number portability information (SMPP 5.0)";
    DEST_ADDR_NP_COUNTRY = 0x0613, "E.164 country code of the ported number (SMPP 5.0)";
    DISPLAY_TIME = 0x1201, "display time";
    SMS_SIGNAL = 0x1203, "alerting signal";
    MS_VALIDITY = 0x1204, "validity information for the mobile station";
    ALERT_ON_MESSAGE_DELIVERY = 0x130C, "alert the user on delivery";
    ITS_REPLY_TYPE = 0x1380, "reply method expected (ITS)";
    ITS_SESSION_INFO = 0x1383, "session information (ITS)";
}

impl Tag {
    /// SMPP 5.0 name of `DESTINATION_PORT`.
    pub const DEST_PORT: Tag = Tag::DESTINATION_PORT;

    /// Whether the tag lies in the vendor-specific range `0x1400..=0x3FFF`.
    pub fn is_vendor_specific(self) -> bool {
        (0x1400..=0x3FFF).contains(&self.0)
    }
}
