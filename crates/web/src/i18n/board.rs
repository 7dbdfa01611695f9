//! The board screens' words.

#[derive(Debug)]
pub struct Board {
    pub title: &'static str,
}

pub static ZH_CN: Board = Board { title: "销售管道" };

pub static EN: Board = Board { title: "Pipeline" };
