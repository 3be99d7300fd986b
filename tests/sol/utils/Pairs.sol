// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Two-element arrays for tests: the parents and the parent shares of a derivative of two
///         works. One copy here instead of a private copy in every suite.
library Pairs {
    /// @notice `[x, y]` as a uint256 array (e.g. two parent work ids).
    function uints(uint256 x, uint256 y) internal pure returns (uint256[] memory a) {
        a = new uint256[](2);
        (a[0], a[1]) = (x, y);
    }

    /// @notice `[x, y]` as a uint32 array (e.g. two parent shares in ppm).
    function ppms(uint32 x, uint32 y) internal pure returns (uint32[] memory a) {
        a = new uint32[](2);
        (a[0], a[1]) = (x, y);
    }
}
