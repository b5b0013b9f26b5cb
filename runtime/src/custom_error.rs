//! Program error enums as `InstructionError::Custom` codes, declared once per program.
//!
//! A program's error is a `#[repr(u32)]` enum whose discriminants are its codes.
//! [`custom_error_codes!`](crate::custom_error_codes) gives it, from the list of its
//! variants in code order:
//!
//! - `ALL`, every variant in code order, so `ALL[code]` is the error with that code;
//! - `code()`, the code carried by `InstructionError::Custom`;
//! - `From<E> for InstructionError` and `TryFrom<u32> for E` (the unknown code comes back as
//!   the error), so a client names a code without a hand-written table;
//! - two compile-time checks: the list names every variant (a `match` with no wildcard), and
//!   each variant's discriminant is its position (codes are dense and in order).
//!
//! ```
//! #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//! #[repr(u32)]
//! pub enum PetError {
//!     /// No such pet.
//!     Missing = 0,
//!     /// Already fed.
//!     Fed = 1,
//! }
//! braid_runtime::custom_error_codes!(PetError { Missing, Fed });
//!
//! assert_eq!(PetError::try_from(1), Ok(PetError::Fed));
//! assert_eq!(PetError::try_from(2), Err(2));
//! assert_eq!(
//!     braid_runtime::InstructionError::from(PetError::Missing),
//!     braid_runtime::InstructionError::Custom(0)
//! );
//! ```

/// See the [module documentation](crate::custom_error).
#[macro_export]
macro_rules! custom_error_codes {
    ($error:ident { $($variant:ident),+ $(,)? }) => {
        impl $error {
            /// Every variant, in code order: `ALL[code]` is the error with that code.
            pub const ALL: &'static [$error] = &[$($error::$variant),+];

            /// The code carried by [`InstructionError::Custom`]($crate::InstructionError::Custom).
            pub const fn code(self) -> u32 {
                self as u32
            }
        }

        const _: () = {
            // Every variant is listed: this match has no wildcard arm.
            let _exhaustive = |error: $error| match error {
                $($error::$variant)|+ => (),
            };
            // Each listed variant's code is its position.
            let mut index = 0;
            while index < $error::ALL.len() {
                assert!($error::ALL[index] as usize == index, "error codes must be dense and in order");
                index += 1;
            }
        };

        impl From<$error> for $crate::InstructionError {
            fn from(error: $error) -> Self {
                $crate::InstructionError::Custom(error.code())
            }
        }

        impl TryFrom<u32> for $error {
            /// The code, returned unchanged when no variant has it.
            type Error = u32;

            fn try_from(code: u32) -> Result<Self, u32> {
                usize::try_from(code)
                    .ok()
                    .and_then(|index| $error::ALL.get(index))
                    .copied()
                    .ok_or(code)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::InstructionError;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[repr(u32)]
    enum Sample {
        First = 0,
        Second = 1,
        Third = 2,
    }
    crate::custom_error_codes!(Sample {
        First,
        Second,
        Third
    });

    #[test]
    fn every_code_round_trips_and_unknown_codes_come_back() {
        assert_eq!(Sample::ALL, &[Sample::First, Sample::Second, Sample::Third]);
        for (index, error) in Sample::ALL.iter().enumerate() {
            assert_eq!(error.code() as usize, index);
            assert_eq!(Sample::try_from(error.code()), Ok(*error));
            assert_eq!(
                InstructionError::from(*error),
                InstructionError::Custom(error.code())
            );
        }
        assert_eq!(Sample::try_from(3), Err(3));
        assert_eq!(Sample::try_from(u32::MAX), Err(u32::MAX));
    }
}
