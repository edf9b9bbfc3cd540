-- The seed question, word for word: cart additions per product category.
SELECT product_category, COUNT(*) FROM ecommerce_events WHERE action = 'ADD_TO_CART' GROUP BY product_category;
