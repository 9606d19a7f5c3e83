//! Categories: the tree (cataJson), and creating (addCata), renaming
//! (updateCata), deleting (deleteCata) categories and moving videos into one
//! (changeCata).
//!
//! Category ids are 64-bit: they exceed 32 bits (`1539918907896`). The root
//! category is [`ROOT_CATEGORY`] (1).

mod edit;
mod tree;

pub use edit::{
    AddCategory, DeleteCategory, MAX_NAME_CHARS, MoveVideos, NewCategory, ROOT_CATEGORY,
    RenameCategory,
};
pub use tree::{Category, CategoryTree, Walk, walk};
