<?php
/**
 * bluepaid/redirect: where the checkout sends the buyer once the order is placed. Sends them
 * on to the hub's pay URL for the checkout's last order, if it was placed with this method;
 * anywhere else, back to the cart.
 */

namespace Bluepaid\Hub\Controller\Redirect;

use Bluepaid\Hub\Model\Payment;
use Bluepaid\Hub\Model\PayUrl;
use Magento\Checkout\Model\Session;
use Magento\Framework\App\Action\HttpGetActionInterface;
use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Controller\Result\RedirectFactory;
use Magento\Store\Model\ScopeInterface;

class Index implements HttpGetActionInterface
{
    private $session;
    private $config;
    private $redirects;

    public function __construct(Session $session, ScopeConfigInterface $config, RedirectFactory $redirects)
    {
        $this->session = $session;
        $this->config = $config;
        $this->redirects = $redirects;
    }

    public function execute()
    {
        $result = $this->redirects->create();
        $order = $this->session->getLastRealOrder();
        $payment = $order ? $order->getPayment() : null;
        if (!$order || !$order->getEntityId() || !$payment || $payment->getMethod() !== Payment::CODE) {
            return $result->setPath('checkout/cart');
        }
        $template = $this->config->getValue(
            'payment/' . Payment::CODE . '/pay_url_template',
            ScopeInterface::SCOPE_STORE,
            $order->getStoreId()
        );
        $url = PayUrl::build($template, $order->getEntityId(), $order->getProtectCode());
        if ($url === '') {
            return $result->setPath('checkout/cart');
        }
        return $result->setUrl($url);
    }
}
