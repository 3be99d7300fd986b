// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Protocol} from "./HeritageTypes.sol";

/// @title Local Contexts labels, seasonal windows and what counts as tightening a protocol
/// @notice Label ids are those of contracts/README.md's table (`labelsVersion` 1). Three labels
///         are enforced: TK Secret/Sacred (14) ⇒ restricted, TK Non-Commercial (16) or BC
///         Non-Commercial (40) ⇒ no commercial use, TK Seasonal (8) ⇒ a season window.
library Labels {
    uint256 internal constant TK_SEASONAL = 8;
    uint256 internal constant TK_SECRET_SACRED = 14;
    uint256 internal constant TK_NON_COMMERCIAL = 16;
    uint256 internal constant BC_NON_COMMERCIAL = 40;

    /// @dev Labels that narrow use (seasonal, women/men general and restricted, culturally
    ///      sensitive, secret/sacred, non-commercial, community use only, BC non-commercial):
    ///      removing one loosens the protocol.
    uint64 internal constant RESTRICTIVE = uint64(
        (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 16) | (1 << 17)
            | (1 << 40)
    );
    /// @dev Labels that invite use (TK open to commercialization, outreach, open to collaboration;
    ///      BC research use, open to collaboration, outreach): adding one loosens the protocol.
    uint64 internal constant PERMISSIVE = uint64((1 << 15) | (1 << 18) | (1 << 19) | (1 << 37) | (1 << 38) | (1 << 39));
    uint64 internal constant NON_COMMERCIAL = uint64((1 << 16) | (1 << 40));

    /// @notice Whether the labels carry TK Secret/Sacred.
    function isSecretSacred(uint64 labels) internal pure returns (bool) {
        return labels & (1 << TK_SECRET_SACRED) != 0;
    }

    /// @notice Whether the labels carry TK or BC Non-Commercial.
    function isNonCommercial(uint64 labels) internal pure returns (bool) {
        return labels & NON_COMMERCIAL != 0;
    }

    /// @notice Whether the labels carry TK Seasonal.
    function isSeasonal(uint64 labels) internal pure returns (bool) {
        return labels & (1 << TK_SEASONAL) != 0;
    }

    /// @notice The UTC calendar month (1-12) and day (1-31) of a Unix timestamp.
    /// @dev Days since 1970-01-01 shifted to an era starting 0000-03-01, so that the leap day
    ///      is the last day of the (March-based) year; 146,097 days make a 400-year era.
    function monthDay(uint256 timestamp) internal pure returns (uint256 month, uint256 day) {
        uint256 z = timestamp / 1 days + 719_468; // days since 0000-03-01
        uint256 doe = z % 146_097; // day of the era, 0..146096
        uint256 yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of the era
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
        uint256 mp = (5 * doy + 2) / 153; // March = 0
        day = doy - (153 * mp + 2) / 5 + 1;
        month = mp < 10 ? mp + 3 : mp - 9;
    }

    /// @notice Whether a season word is 0 or two valid (month, day) pairs (29 February allowed).
    function isValidSeason(uint32 season) internal pure returns (bool) {
        if (season == 0) return true;
        return _validDay(season >> 24, (season >> 16) & 0xff) && _validDay((season >> 8) & 0xff, season & 0xff);
    }

    /// @notice Whether `timestamp` falls inside the season window (always, for season 0).
    function inSeason(uint32 season, uint256 timestamp) internal pure returns (bool) {
        if (season == 0) return true;
        (uint256 month, uint256 day) = monthDay(timestamp);
        uint256 today = _dayIndex(month, day);
        (uint256 first, uint256 last) = _window(season);
        return first <= last ? first <= today && today <= last : today >= first || today <= last;
    }

    /// @notice Whether every day of window `inner` is also a day of window `outer`.
    function seasonWithin(uint32 inner, uint32 outer) internal pure returns (bool) {
        if (outer == 0) return true;
        (uint256 oa, uint256 ob) = _window(outer);
        if (oa == ob + 1 || (oa == 0 && ob == 365)) return true; // outer covers the whole year
        if (inner == 0) return false;
        (uint256 ia, uint256 ib) = _window(inner);
        if (oa <= ob) return ia <= ib && oa <= ia && ib <= ob;
        if (ia <= ib) return ia >= oa || ib <= ob;
        return ia >= oa && ib <= ob;
    }

    /// @notice Whether `next` only tightens `old`: every use `next` permits, `old` permitted.
    /// @dev The one definition of tightening, used by `setProtocol` to decide whether one
    ///      steward may apply a change at once. Permissions are derived from the flags (allowed
    ///      derivatives, commercial and ML use; no consent; no attribution), the labels
    ///      (removing a RESTRICTIVE label or adding a PERMISSIVE one loosens; a new table
    ///      version is read as loosening, since ids could be read anew) and the season window
    ///      (`next`'s days must all be days of `old`'s). The floor must not be lower.
    ///      `restricted` never changes (checked by the caller).
    function isTightening(Protocol memory old, Protocol memory next) internal pure returns (bool) {
        if (next.derivativesAllowed && !old.derivativesAllowed) return false;
        if (next.commercialAllowed && !old.commercialAllowed) return false;
        if (next.mlAllowed && !old.mlAllowed) return false;
        if (old.consentRequired && !next.consentRequired) return false;
        if (old.attributionRequired && !next.attributionRequired) return false;
        if (next.floorPpm < old.floorPpm) return false;
        if (next.labelsVersion != old.labelsVersion) return false;
        if (old.labels & RESTRICTIVE & ~next.labels != 0) return false;
        if (next.labels & PERMISSIVE & ~old.labels != 0) return false;
        return seasonWithin(next.season, old.season);
    }

    function _window(uint32 season) private pure returns (uint256 first, uint256 last) {
        first = _dayIndex(season >> 24, (season >> 16) & 0xff);
        last = _dayIndex((season >> 8) & 0xff, season & 0xff);
    }

    /// @dev Day of a leap year, 0 (1 January) to 365 (31 December); 29 February is 59.
    ///      Months from March have lengths 31,30,31,30,31 repeating, hence (153m + 2) / 5.
    function _dayIndex(uint256 month, uint256 day) private pure returns (uint256) {
        uint256 before = month <= 2 ? (month - 1) * 31 : (153 * (month - 3) + 2) / 5 + 60;
        return before + day - 1;
    }

    function _validDay(uint256 month, uint256 day) private pure returns (bool) {
        if (month == 0 || month > 12 || day == 0) return false;
        if (month == 2) return day <= 29;
        if (month == 4 || month == 6 || month == 9 || month == 11) return day <= 30;
        return day <= 31;
    }
}
